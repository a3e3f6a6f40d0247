<?php
/**
 * Server-side calls to wcsync's API with the Bearer token.
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
	const PENDING_TTL       = 60;

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
	 * Call wcsync. Returns the decoded JSON body, or a WP_Error whose message is fit for an
	 * admin's eyes (the token never appears in it).
	 *
	 * @param string                    $method  HTTP method.
	 * @param string                    $path    Path under the wcsync URL, e.g. /api/pending.
	 * @param array<string, mixed>|null $body    JSON body.
	 * @param float                     $timeout Seconds.
	 * @return array<int|string, mixed>|WP_Error
	 */
	public function request( string $method, string $path, ?array $body = null, float $timeout = 15.0 ) {
		if ( ! $this->settings->is_configured() ) {
			return new WP_Error(
				'wcsync_not_configured',
				__( 'wcsync is not set up yet: enter its URL, token and this store\'s name under WooCommerce > wcsync.', 'wcsync-admin' ),
				array( 'status' => 503 )
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
		$response = wp_remote_request( $this->settings->url() . $path, $args );
		if ( is_wp_error( $response ) ) {
			return new WP_Error(
				'wcsync_unreachable',
				/* translators: %s: the transport's error message. */
				sprintf( __( 'wcsync did not answer: %s', 'wcsync-admin' ), $response->get_error_message() ),
				array( 'status' => 502 )
			);
		}
		$status = (int) wp_remote_retrieve_response_code( $response );
		$data   = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( $status >= 400 ) {
			if ( 401 === $status ) {
				// Our token was refused; the admin in the browser did nothing wrong.
				return new WP_Error(
					'wcsync_token_refused',
					__( 'wcsync refused the token saved under WooCommerce > wcsync.', 'wcsync-admin' ),
					array( 'status' => 502 )
				);
			}
			$message = is_array( $data ) && isset( $data['error']['message'] ) ? (string) $data['error']['message'] : '';
			return new WP_Error(
				is_array( $data ) && isset( $data['error']['code'] ) ? 'wcsync_' . sanitize_key( (string) $data['error']['code'] ) : 'wcsync_error',
				/* translators: 1: HTTP status, 2: wcsync's message. */
				'' !== $message ? $message : sprintf( __( 'wcsync answered HTTP %d.', 'wcsync-admin' ), $status ),
				array( 'status' => $status >= 500 ? 502 : $status )
			);
		}
		if ( 204 === $status ) {
			return array();
		}
		if ( ! is_array( $data ) ) {
			return new WP_Error( 'wcsync_bad_reply', __( 'wcsync answered with something that is not JSON.', 'wcsync-admin' ), array( 'status' => 502 ) );
		}
		return $data;
	}

	/**
	 * This store's role in wcsync (main or sub), cached for an hour.
	 *
	 * @param float $timeout Seconds.
	 * @return string|WP_Error
	 */
	public function role( float $timeout = 15.0 ) {
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
	 * Orders waiting to sync that concern this store: for a sub-store, its orders going up
	 * and the main store's orders coming down; for the main store, all of them.
	 *
	 * @param float $timeout Seconds, for each call.
	 * @return array{store: string, role: string, pending: int, failed: int}|WP_Error
	 */
	public function pending( float $timeout = 15.0 ) {
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
			// Orders, each counted once however many sub-stores it waits for (`total` before 0.2).
			$pending = (int) ( $counts['orders'] ?? $counts['total'] ?? 0 );
		} else {
			// Per sub-store the counts are orders already: one copy of an order per store.
			$pending = (int) ( $counts['main_to_sub'][ $store ] ?? 0 ) + (int) ( $counts['sub_to_main'][ $store ] ?? 0 );
		}
		$failed = $this->request( 'GET', '/api/links?' . http_build_query( array( 'state' => 'failed', 'store' => $store, 'limit' => 1 ) ), null, $timeout );
		$result = array(
			'store'   => $store,
			'role'    => $role,
			'pending' => $pending,
			'failed'  => is_wp_error( $failed ) ? 0 : (int) ( $failed['total'] ?? 0 ),
		);
		set_transient( self::PENDING_TRANSIENT, $result, self::PENDING_TTL );
		return $result;
	}

	/**
	 * The last known pending count for the menu bubble: from the cache, else one short call.
	 * A wcsync that does not answer is remembered for a minute so it slows no more than one
	 * admin page a minute.
	 */
	public function cached_pending_count(): ?int {
		$cached = get_transient( self::PENDING_TRANSIENT );
		if ( is_array( $cached ) ) {
			return isset( $cached['pending'] ) ? (int) $cached['pending'] : null;
		}
		if ( 'unavailable' === $cached || ! $this->settings->is_configured() ) {
			return null;
		}
		$result = $this->pending( 3.0 );
		if ( is_wp_error( $result ) ) {
			set_transient( self::PENDING_TRANSIENT, 'unavailable', self::PENDING_TTL );
			return null;
		}
		return $result['pending'];
	}
}
