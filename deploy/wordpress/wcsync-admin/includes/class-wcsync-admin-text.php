<?php
/**
 * The sentences with a number in them, made here with _n() so that every language gets its
 * plural forms; the script shows them as the REST routes hand them over.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * Counted sentences.
 */
class Wcsync_Admin_Text {

	/**
	 * "3 orders waiting to sync (5 copies)": orders, each counted once, and the copies they
	 * wait for when that number differs.
	 *
	 * @param int $orders Orders waiting.
	 * @param int $copies Copies (writes) they wait for.
	 */
	public static function pending( int $orders, int $copies ): string {
		if ( $orders < 1 ) {
			return __( 'No order is waiting to sync.', 'wcsync-admin' );
		}
		/* translators: %s: number of orders. */
		$text = sprintf( _n( '%s order waiting to sync', '%s orders waiting to sync', $orders, 'wcsync-admin' ), number_format_i18n( $orders ) );
		if ( $copies > $orders ) {
			/* translators: %s: number of copies. */
			$text .= ' ' . sprintf( _n( '(%s copy)', '(%s copies)', $copies, 'wcsync-admin' ), number_format_i18n( $copies ) );
		}
		return $text . '.';
	}

	/**
	 * "2 orders failed and need attention."
	 *
	 * @param int $failed Orders of this store with a failed copy.
	 */
	public static function failed( int $failed ): string {
		/* translators: %s: number of orders. */
		return sprintf( _n( '%s order failed and needs attention.', '%s orders failed and need attention.', $failed, 'wcsync-admin' ), number_format_i18n( $failed ) );
	}

	/**
	 * wcsync's 429 to this store's token: it was wrong too many times, and wcsync pauses checks
	 * of it (a right token is never refused so).
	 *
	 * @param int $seconds How long wcsync pauses (its Retry-After).
	 */
	public static function token_paused( int $seconds ): string {
		/* translators: %s: number of seconds. */
		return sprintf( _n( 'wcsync refused the token saved for this store too many times, and stops checking it for %s second. Enter a new store token in the wcsync settings.', 'wcsync refused the token saved for this store too many times, and stops checking it for %s seconds. Enter a new store token in the wcsync settings.', $seconds, 'wcsync-admin' ), number_format_i18n( $seconds ) );
	}

	/**
	 * The bubble's accessible label.
	 *
	 * @param int $orders Orders waiting.
	 */
	public static function bubble( int $orders ): string {
		/* translators: %s: number of orders. */
		return sprintf( _n( '%s order waiting for wcsync', '%s orders waiting for wcsync', $orders, 'wcsync-admin' ), number_format_i18n( $orders ) );
	}

	/**
	 * A run under way.
	 *
	 * @param int $done  Copies done.
	 * @param int $total Copies in the run.
	 */
	public static function progress( int $done, int $total ): string {
		if ( $total < 1 ) {
			return __( 'Looking for orders to sync…', 'wcsync-admin' );
		}
		/* translators: 1: copies done, 2: copies in the run. */
		return sprintf( _n( 'Syncing: %1$s of %2$s copy…', 'Syncing: %1$s of %2$s copies…', $total, 'wcsync-admin' ), number_format_i18n( $done ), number_format_i18n( $total ) );
	}

	/**
	 * A run that has ended.
	 *
	 * @param array<string, mixed> $counts created, updated, skipped, failed.
	 */
	public static function finished( array $counts ): string {
		return sprintf(
			/* translators: 1: copies created, 2: updated, 3: skipped, 4: failed. */
			__( 'Sync finished: %1$s created, %2$s updated, %3$s skipped, %4$s failed.', 'wcsync-admin' ),
			number_format_i18n( (int) ( $counts['created'] ?? 0 ) ),
			number_format_i18n( (int) ( $counts['updated'] ?? 0 ) ),
			number_format_i18n( (int) ( $counts['skipped'] ?? 0 ) ),
			number_format_i18n( (int) ( $counts['failed'] ?? 0 ) )
		);
	}

	/**
	 * The summary as the notice shows it: its sentences, its look and whether Sync Now is the
	 * page's main action.
	 *
	 * @param array<string, mixed>|null $summary The summary (Wcsync_Admin_Client), or null.
	 * @return array{kind: string, text: string, failed_text: string, failed: int, settings_url: string}
	 */
	public static function notice( ?array $summary ): array {
		if ( null === $summary ) {
			return array(
				'kind'         => 'checking',
				'text'         => __( 'Checking wcsync…', 'wcsync-admin' ),
				'failed_text'  => '',
				'failed'       => 0,
				'settings_url' => '',
			);
		}
		if ( 'ok' !== ( $summary['state'] ?? '' ) ) {
			return array(
				'kind'         => 'error',
				'text'         => (string) ( $summary['message'] ?? '' ),
				'failed_text'  => '',
				'failed'       => 0,
				'settings_url' => (string) ( $summary['settings_url'] ?? '' ),
			);
		}
		$failed = (int) ( $summary['failed'] ?? 0 );
		return array(
			'kind'         => $failed > 0 ? 'failed' : 'ok',
			'text'         => self::pending( (int) ( $summary['pending'] ?? 0 ), (int) ( $summary['copies'] ?? 0 ) ),
			'failed_text'  => $failed > 0 ? self::failed( $failed ) : '',
			'failed'       => $failed,
			'settings_url' => '',
		);
	}
}
