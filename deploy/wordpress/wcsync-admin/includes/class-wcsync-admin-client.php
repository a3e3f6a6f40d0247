<?php
/**
 * Server-side calls to wcsync's API with the store token, and the short-lived summary that the
 * menu bubble, the Orders notice and the Orders list marks are drawn from.
 *
 * No admin page waits for wcsync: pages read the summary from a transient, and the browser
 * refreshes it after the page has loaded (REST route wcsync-admin/v1/pending), with a timeout of
 * one second, so a hung or stopped wcsync costs a page nothing and the notice says so at once.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * A small client of wcsync's JSON API.
 */
class Wcsync_Admin_Client {

	const PENDING_TRANSIENT = 'wcsync_admin_pending';
	const ROLE_TRANSIENT    = 'wcsync_admin_role';
	const ORIGIN_TRANSIENT  = 'wcsync_admin_origin_';
	// The summary is refreshed by the browser when older than this...
	const FRESH_SECONDS = 60;
	// ...and kept this long, so that pages keep showing the last count in between.
	const PENDING_TTL = 900;
	// A wcsync that failed is asked again after this many seconds, not at every page: each
	// refresh holds a PHP worker up to REFRESH_TIMEOUT while it hangs.
	const ERROR_RETRY_SECONDS = 60;
	// Seconds: the refresh runs after the page has loaded, but a hung wcsync must still be
	// reported quickly, and never hold a PHP worker long.
	const REFRESH_TIMEOUT = 1.0;
	// The failed orders the summary remembers, to mark them in the Orders list.
	const FAILED_IDS = 100;

	/**
	 * The plugin's settings.
	 *
	 * @var Wcsync_Admin_Settings
	 */
	private Wcsync_Admin_Settings $settings;

	/**
	 * Build the client.
	 *
	 * @param Wcsync_Admin_Settings $settings The plugin's settings.
	 */
	public function __construct( Wcsync_Admin_Settings $settings ) {
		$this->settings = $settings;
	}

	/**
	 * The settings page, where a wrong token or store name is put right.
	 */
	public static function settings_url(): string {
		return admin_url( 'admin.php?page=' . Wcsync_Admin_Settings::PAGE );
	}

	/**
	 * Call wcsync. Returns the decoded JSON body, or a WP_Error whose message is in plain words
	 * for an admin (never the token, never a transport's raw text).
	 *
	 * @param string                    $method  HTTP method.
	 * @param string                    $path    Path under the wcsync URL, e.g. /api/pending.
	 * @param array<string, mixed>|null $body    JSON body.
	 * @param float                     $timeout Seconds.
	 * @return array<int|string, mixed>|WP_Error
	 */
	public function request( string $method, string $path, ?array $body = null, float $timeout = 10.0 ) {
		if ( ! $this->settings->is_configured() ) {
			return new WP_Error(
				'wcsync_not_configured',
				__( 'wcsync is not set up yet: enter its URL, a store token and this store\'s name under WooCommerce > wcsync.', 'wcsync-admin' ),
				array(
					'status'       => 503,
					'settings_url' => self::settings_url(),
				)
			);
		}
		$args = array(
			'method'      => $method,
			'timeout'     => $timeout,
			'redirection' => 0,
			'user-agent'  => 'wcsync-admin/' . WCSYNC_ADMIN_VERSION . '; ' . home_url( '/' ),
			'headers'     => array(
				'Authorization' => 'Bearer ' . $this->settings->token(),
				'Accept'        => 'application/json',
			),
		);
		if ( null !== $body ) {
			$args['headers']['Content-Type'] = 'application/json';
			$args['body']                    = wp_json_encode( $body );
		}
		$url      = $this->settings->url();
		$response = wp_remote_request( $url . $path, $args );
		if ( is_wp_error( $response ) ) {
			return self::transport_error( $response, $url );
		}
		$status = (int) wp_remote_retrieve_response_code( $response );
		$data   = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( $status >= 400 ) {
			$wait = (int) wp_remote_retrieve_header( $response, 'retry-after' );
			return $this->answer_error( $status, is_array( $data ) ? $data : array(), $wait );
		}
		if ( 204 === $status ) {
			return array();
		}
		if ( ! is_array( $data ) ) {
			return new WP_Error(
				'wcsync_bad_reply',
				/* translators: %s: the wcsync URL. */
				sprintf( __( 'The server at %s did not answer like wcsync. Is the wcsync URL right?', 'wcsync-admin' ), $url ),
				array(
					'status'       => 502,
					'settings_url' => self::settings_url(),
				)
			);
		}
		return $data;
	}

	/**
	 * A failed connection, in plain words: a wcsync that does not answer in time, or not at all.
	 *
	 * @param WP_Error $error The transport's error (cURL's text, which admins need not read).
	 * @param string   $url   The wcsync URL.
	 */
	public static function transport_error( WP_Error $error, string $url ): WP_Error {
		$raw = strtolower( $error->get_error_message() );
		if ( str_contains( $raw, 'timed out' ) || str_contains( $raw, 'curl error 28' ) || str_contains( $raw, 'timeout' ) ) {
			return new WP_Error(
				'wcsync_not_answering',
				/* translators: %s: the wcsync URL. */
				sprintf( __( 'wcsync is not answering at %s; is it running?', 'wcsync-admin' ), $url ),
				array( 'status' => 504 )
			);
		}
		return new WP_Error(
			'wcsync_unreachable',
			/* translators: %s: the wcsync URL. */
			sprintf( __( 'wcsync did not answer at %s; is it running?', 'wcsync-admin' ), $url ),
			array( 'status' => 502 )
		);
	}

	/**
	 * wcsync's error answer, for an admin: what went wrong and, when the settings can fix it,
	 * where they are.
	 *
	 * @param int                  $status HTTP status.
	 * @param array<string, mixed> $data   The decoded body.
	 * @param int                  $wait   Its Retry-After, in seconds (0: none).
	 */
	private function answer_error( int $status, array $data, int $wait = 0 ): WP_Error {
		$code    = isset( $data['error']['code'] ) ? sanitize_key( (string) $data['error']['code'] ) : '';
		$message = isset( $data['error']['message'] ) ? (string) $data['error']['message'] : '';
		$fix     = array(
			'status'       => 502,
			'settings_url' => self::settings_url(),
		);
		if ( 401 === $status ) {
			// Our token was refused; the admin in the browser did nothing wrong (so not 401 here).
			return new WP_Error(
				'wcsync_token_refused',
				__( 'wcsync refused the token saved for this store. Enter a new store token in the wcsync settings.', 'wcsync-admin' ),
				$fix
			);
		}
		if ( 429 === $status && 'too_many_failures' === $code ) {
			// wcsync never answers a right token so: this store's token is wrong. The summary is
			// not asked again before the pause ends (summary_is_stale).
			$wait = max( 1, $wait );
			return new WP_Error(
				'wcsync_token_paused',
				Wcsync_Admin_Text::token_paused( $wait ),
				$fix + array( 'retry_after' => $wait )
			);
		}
		if ( 403 === $status ) {
			return new WP_Error(
				'wcsync_forbidden',
				/* translators: %s: wcsync's explanation. */
				sprintf( __( 'wcsync refused this: %s Check the token and the store name in the wcsync settings.', 'wcsync-admin' ), $message ),
				$fix
			);
		}
		if ( 404 === $status && 'store_not_found' === $code ) {
			return new WP_Error(
				'wcsync_store_not_found',
				/* translators: %s: the store name saved in the settings. */
				sprintf( __( 'wcsync knows no store named %s. Check the store name in the wcsync settings.', 'wcsync-admin' ), $this->settings->store() ),
				$fix
			);
		}
		return new WP_Error(
			'' !== $code ? 'wcsync_' . $code : 'wcsync_error',
			/* translators: %d: HTTP status. */
			'' !== $message ? $message : sprintf( __( 'wcsync answered HTTP %d.', 'wcsync-admin' ), $status ),
			array( 'status' => $status >= 500 ? 502 : $status )
		);
	}

	/**
	 * This store's role in wcsync (main or sub), cached for an hour.
	 *
	 * @param float $timeout Seconds.
	 * @return string|WP_Error
	 */
	public function role( float $timeout = 10.0 ) {
		$cached = get_transient( self::ROLE_TRANSIENT );
		if ( is_string( $cached ) && '' !== $cached ) {
			return $cached;
		}
		$store = $this->request( 'GET', '/api/stores/' . rawurlencode( $this->settings->store() ), null, $timeout );
		if ( is_wp_error( $store ) ) {
			return $store;
		}
		$role = isset( $store['role'] ) && 'main' === $store['role'] ? 'main' : 'sub';
		set_transient( self::ROLE_TRANSIENT, $role, HOUR_IN_SECONDS );
		return $role;
	}

	/**
	 * What concerns this store, asked of wcsync now: the orders waiting to sync (orders, each
	 * counted once, and the copies they wait for) and its orders whose copy failed. Saved as the
	 * summary the pages draw from, errors included.
	 *
	 * @param float $timeout Seconds, for each call; the first failure ends it.
	 * @return array<string, mixed>|WP_Error
	 */
	public function refresh( float $timeout = self::REFRESH_TIMEOUT ) {
		$summary = $this->fetch_summary( $timeout );
		if ( is_wp_error( $summary ) ) {
			$data = $summary->get_error_data();
			set_transient(
				self::PENDING_TRANSIENT,
				array(
					'state'        => 'error',
					'code'         => $summary->get_error_code(),
					'message'      => $summary->get_error_message(),
					'settings_url' => is_array( $data ) && isset( $data['settings_url'] ) ? (string) $data['settings_url'] : '',
					'retry_after'  => is_array( $data ) && isset( $data['retry_after'] ) ? (int) $data['retry_after'] : 0,
					'checked_at'   => time(),
					'for'          => $this->settings_key(),
				),
				self::PENDING_TTL
			);
			return $summary;
		}
		$summary['for'] = $this->settings_key();
		set_transient( self::PENDING_TRANSIENT, $summary, self::PENDING_TTL );
		return $summary;
	}

	/**
	 * What a summary was asked with: one asked before the settings changed (a refresh still
	 * under way while they were saved) is not shown after.
	 */
	private function settings_key(): string {
		return md5( $this->settings->url() . '|' . $this->settings->store() . '|' . $this->settings->token() );
	}

	/**
	 * The summary from wcsync.
	 *
	 * @param float $timeout Seconds, for each call.
	 * @return array<string, mixed>|WP_Error
	 */
	private function fetch_summary( float $timeout ) {
		$role = $this->role( $timeout );
		if ( is_wp_error( $role ) ) {
			return $role;
		}
		$counts = $this->request( 'GET', '/api/pending', null, $timeout );
		if ( is_wp_error( $counts ) ) {
			return $counts;
		}
		$store = $this->settings->store();
		if ( 'main' === $role ) {
			// Every waiting order, once however many sub-stores it waits for; `total` before 0.2.
			$orders = (int) ( $counts['orders'] ?? $counts['total'] ?? 0 );
			$copies = (int) ( $counts['copies'] ?? $orders );
		} else {
			// A sub-store's counts are orders: its orders going up, and the main store's coming
			// down (one copy each on this store).
			$orders = (int) ( $counts['main_to_sub'][ $store ] ?? 0 ) + (int) ( $counts['sub_to_main'][ $store ] ?? 0 );
			$copies = $orders;
		}
		$failed = $this->request(
			'GET',
			'/api/stores/' . rawurlencode( $store ) . '/failed-orders?limit=' . self::FAILED_IDS,
			null,
			$timeout
		);
		if ( is_wp_error( $failed ) ) {
			return $failed;
		}
		$failed_ids = array();
		foreach ( (array) ( $failed['items'] ?? array() ) as $item ) {
			if ( is_array( $item ) && isset( $item['order_id'] ) ) {
				$failed_ids[] = (int) $item['order_id'];
			}
		}
		return array(
			'state'      => 'ok',
			'store'      => $store,
			'role'       => $role,
			'pending'    => $orders,
			'copies'     => $copies,
			'failed'     => (int) ( $failed['total'] ?? count( $failed_ids ) ),
			'failed_ids' => $failed_ids,
			'checked_at' => time(),
		);
	}

	/**
	 * The last summary, without asking wcsync: null when there is none.
	 *
	 * @return array<string, mixed>|null
	 */
	public function cached_summary(): ?array {
		$cached = get_transient( self::PENDING_TRANSIENT );
		if ( ! is_array( $cached ) || ! isset( $cached['state'] ) || ( $cached['for'] ?? '' ) !== $this->settings_key() ) {
			return null;
		}
		return $cached;
	}

	/**
	 * Whether the browser should refresh the summary after the page has loaded: on the order
	 * screens at each visit (an answering wcsync answers in milliseconds), elsewhere once a
	 * minute for the menu bubble; after a failure, not before ERROR_RETRY_SECONDS (nor before
	 * wcsync's Retry-After, when it paused checks of a wrong token).
	 *
	 * @param bool $order_screen Whether the page is an order screen.
	 */
	public function summary_is_stale( bool $order_screen = false ): bool {
		$cached = $this->cached_summary();
		if ( null === $cached ) {
			return true;
		}
		$age = time() - (int) ( $cached['checked_at'] ?? 0 );
		if ( 'ok' !== $cached['state'] ) {
			return $age >= max( self::ERROR_RETRY_SECONDS, (int) ( $cached['retry_after'] ?? 0 ) );
		}
		return $order_screen || $age >= self::FRESH_SECONDS;
	}

	/**
	 * The pending count for the menu bubble: from the summary only, never a call to wcsync.
	 */
	public function cached_pending_count(): ?int {
		$cached = $this->cached_summary();
		if ( null === $cached || 'ok' !== $cached['state'] ) {
			return null;
		}
		return (int) $cached['pending'];
	}

	/**
	 * The origin order's admin screen, if wcsync told it before (kept for a day).
	 *
	 * @param string $origin The replica's _wcsync_origin (store:id).
	 */
	public static function cached_origin_url( string $origin ): string {
		$url = get_transient( self::ORIGIN_TRANSIENT . md5( $origin ) );
		return is_string( $url ) ? $url : '';
	}

	/**
	 * Where a replica on this store came from, with the origin order's admin screen.
	 *
	 * @param int    $order_id The replica's id here.
	 * @param string $origin   Its _wcsync_origin (store:id), the cache key.
	 * @return array<int|string, mixed>|WP_Error
	 */
	public function origin( int $order_id, string $origin ) {
		$found = $this->request( 'GET', '/api/orders/' . rawurlencode( $this->settings->store() ) . '/' . $order_id . '/origin' );
		if ( ! is_wp_error( $found ) && isset( $found['admin_url'] ) && '' !== $origin ) {
			set_transient( self::ORIGIN_TRANSIENT . md5( $origin ), esc_url_raw( (string) $found['admin_url'] ), DAY_IN_SECONDS );
		}
		return $found;
	}
}
