<?php
/**
 * The plugin's own REST routes (wcsync-admin/v1). The browser calls these with the
 * wp_rest nonce; they call wcsync server-side, so the token never reaches the browser.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * REST routes for the Orders screen, the order edit screen and the settings page.
 */
class Wcsync_Admin_Rest {

	const REST_NAMESPACE = 'wcsync-admin/v1';

	/**
	 * The plugin's settings.
	 *
	 * @var Wcsync_Admin_Settings
	 */
	private Wcsync_Admin_Settings $settings;

	/**
	 * The wcsync client.
	 *
	 * @var Wcsync_Admin_Client
	 */
	private Wcsync_Admin_Client $client;

	/**
	 * Build the routes.
	 *
	 * @param Wcsync_Admin_Settings $settings The plugin's settings.
	 * @param Wcsync_Admin_Client   $client   The wcsync client.
	 */
	public function __construct( Wcsync_Admin_Settings $settings, Wcsync_Admin_Client $client ) {
		$this->settings = $settings;
		$this->client   = $client;
	}

	/**
	 * Hook the routes into the REST API.
	 */
	public function register(): void {
		add_action( 'rest_api_init', array( $this, 'register_routes' ) );
	}

	/**
	 * Register every route; each one checks the capability and the nonce.
	 */
	public function register_routes(): void {
		$id_arg = array(
			'id' => array(
				'type'              => 'integer',
				'minimum'           => 1,
				'required'          => true,
				'sanitize_callback' => 'absint',
				'validate_callback' => 'rest_validate_request_arg',
			),
		);

		register_rest_route(
			self::REST_NAMESPACE,
			'/pending',
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => array( $this, 'get_pending' ),
				'permission_callback' => array( $this, 'check_permission' ),
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/status',
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => array( $this, 'get_status' ),
				'permission_callback' => array( $this, 'check_permission' ),
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/failed',
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => array( $this, 'get_failed' ),
				'permission_callback' => array( $this, 'check_permission' ),
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/sync',
			array(
				'methods'             => WP_REST_Server::CREATABLE,
				'callback'            => array( $this, 'sync_now' ),
				'permission_callback' => array( $this, 'check_permission' ),
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/runs/(?P<id>\d+)',
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => array( $this, 'get_run' ),
				'permission_callback' => array( $this, 'check_permission' ),
				'args'                => $id_arg,
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/orders/(?P<id>\d+)',
			array(
				'methods'             => WP_REST_Server::READABLE,
				'callback'            => array( $this, 'get_order' ),
				'permission_callback' => array( $this, 'check_permission' ),
				'args'                => $id_arg,
			)
		);
		register_rest_route(
			self::REST_NAMESPACE,
			'/orders/(?P<id>\d+)/sync',
			array(
				'methods'             => WP_REST_Server::CREATABLE,
				'callback'            => array( $this, 'sync_order' ),
				'permission_callback' => array( $this, 'check_permission' ),
				'args'                => $id_arg,
			)
		);
	}

	/**
	 * Only shop managers, and only from a page this site served (the wp_rest nonce).
	 *
	 * WordPress already drops cookie authentication without a valid nonce; checking it here
	 * too keeps these routes safe should that ever be bypassed by another plugin.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return true|WP_Error
	 */
	public function check_permission( WP_REST_Request $request ) {
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return new WP_Error(
				'rest_forbidden',
				__( 'Only shop managers may use wcsync here.', 'wcsync-admin' ),
				array( 'status' => rest_authorization_required_code() )
			);
		}
		$nonce = (string) $request->get_header( 'X-WP-Nonce' );
		if ( '' === $nonce || ! wp_verify_nonce( $nonce, 'wp_rest' ) ) {
			return new WP_Error(
				'rest_cookie_invalid_nonce',
				__( 'This page has expired; reload it and try again.', 'wcsync-admin' ),
				array( 'status' => 403 )
			);
		}
		return true;
	}

	/**
	 * What concerns this store, asked of wcsync now (the script calls this after the page has
	 * loaded): the summary, saved for the next pages, and the notice's sentences.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function get_pending( WP_REST_Request $request ) {
		unset( $request );
		$summary = $this->client->refresh();
		if ( is_wp_error( $summary ) ) {
			return $summary;
		}
		// Which settings it was asked with stays on the server (a hash that takes in the token).
		unset( $summary['for'] );
		$summary['notice'] = Wcsync_Admin_Text::notice( $summary );
		return rest_ensure_response( $summary );
	}

	/**
	 * This store's orders whose copy failed, with the reason and a link to each order here.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function get_failed( WP_REST_Request $request ) {
		unset( $request );
		$store  = $this->settings->store();
		$failed = $this->client->request( 'GET', '/api/stores/' . rawurlencode( $store ) . '/failed-orders?limit=' . Wcsync_Admin_Client::FAILED_IDS );
		if ( is_wp_error( $failed ) ) {
			return $failed;
		}
		$items = array();
		foreach ( (array) ( $failed['items'] ?? array() ) as $item ) {
			if ( ! is_array( $item ) || ! isset( $item['order_id'] ) ) {
				continue;
			}
			$order_id = (int) $item['order_id'];
			$order    = function_exists( 'wc_get_order' ) ? wc_get_order( $order_id ) : null;
			$links    = array();
			foreach ( (array) ( $item['links'] ?? array() ) as $link ) {
				$links[] = array(
					'origin'     => $link['origin'] ?? null,
					'target'     => $link['target'] ?? null,
					'attempts'   => (int) ( $link['attempts'] ?? 0 ),
					'last_error' => (string) ( $link['last_error'] ?? '' ),
					'updated_at' => (string) ( $link['updated_at'] ?? '' ),
				);
			}
			$items[] = array(
				'order_id' => $order_id,
				'number'   => $order instanceof WC_Order ? (string) $order->get_order_number() : (string) $order_id,
				'edit_url' => $order instanceof WC_Order ? esc_url_raw( (string) $order->get_edit_order_url() ) : '',
				'links'    => $links,
			);
		}
		return rest_ensure_response(
			array(
				'store'   => $store,
				'total'   => (int) ( $failed['total'] ?? count( $items ) ),
				'message' => Wcsync_Admin_Text::failed( (int) ( $failed['total'] ?? count( $items ) ) ),
				'items'   => $items,
			)
		);
	}

	/**
	 * Whether wcsync answers and knows this store: for the settings page's check button.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function get_status( WP_REST_Request $request ) {
		unset( $request );
		$store = $this->client->request( 'GET', '/api/stores/' . rawurlencode( $this->settings->store() ), null, 5.0 );
		if ( is_wp_error( $store ) ) {
			return $store;
		}
		return rest_ensure_response(
			array(
				'store'           => (string) ( $store['name'] ?? '' ),
				'role'            => (string) ( $store['role'] ?? '' ),
				'enabled'         => ! empty( $store['enabled'] ),
				'last_success_at' => $store['last_success_at'] ?? null,
				'last_error'      => $store['last_error'] ?? null,
			)
		);
	}

	/**
	 * Sync Now: the main store syncs everything; a sub-store syncs its own orders both ways.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function sync_now( WP_REST_Request $request ) {
		unset( $request );
		$role = $this->client->role();
		if ( is_wp_error( $role ) ) {
			return $role;
		}
		$body = array( 'direction' => 'both' );
		if ( 'main' !== $role ) {
			$body['store'] = $this->settings->store();
		}
		$run = $this->client->request( 'POST', '/api/sync', $body );
		return is_wp_error( $run ) ? $run : rest_ensure_response( $run );
	}

	/**
	 * One run's status and progress.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function get_run( WP_REST_Request $request ) {
		$run = $this->client->request( 'GET', '/api/runs/' . absint( $request['id'] ) );
		if ( is_wp_error( $run ) ) {
			return $run;
		}
		$finished       = in_array( $run['status'] ?? '', array( 'succeeded', 'partial', 'failed' ), true );
		$run['message'] = $finished
			? Wcsync_Admin_Text::finished( (array) ( $run['counts'] ?? array() ) )
			: Wcsync_Admin_Text::progress( (int) ( $run['progress']['done'] ?? 0 ), (int) ( $run['progress']['total'] ?? 0 ) );
		$run['finished'] = $finished;
		return rest_ensure_response( $run );
	}

	/**
	 * This store's order's links and history.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function get_order( WP_REST_Request $request ) {
		$order_id = absint( $request['id'] );
		$order    = $this->client->request( 'GET', $this->order_path( $order_id ) );
		if ( is_wp_error( $order ) ) {
			return $order;
		}
		// A replica: where it came from, with the origin order's admin screen.
		$local  = function_exists( 'wc_get_order' ) ? wc_get_order( $order_id ) : null;
		$origin = $local instanceof WC_Order ? (string) $local->get_meta( '_wcsync_origin' ) : '';
		if ( '' !== $origin ) {
			$found = $this->client->origin( $order_id, $origin );
			if ( ! is_wp_error( $found ) ) {
				$order['origin'] = array(
					'store'     => (string) ( $found['origin']['store'] ?? '' ),
					'order_id'  => (int) ( $found['origin']['order_id'] ?? 0 ),
					'label'     => $origin,
					'admin_url' => esc_url_raw( (string) ( $found['admin_url'] ?? '' ) ),
				);
			}
		}
		return rest_ensure_response( $order );
	}

	/**
	 * Sync Order: discover and replicate this one order now.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response|WP_Error
	 */
	public function sync_order( WP_REST_Request $request ) {
		$order = $this->client->request( 'POST', $this->order_path( absint( $request['id'] ) ) . '/sync', null, 60.0 );
		return is_wp_error( $order ) ? $order : rest_ensure_response( $order );
	}

	/**
	 * The wcsync path of one of this store's orders.
	 *
	 * @param int $order_id The order id on this store.
	 */
	private function order_path( int $order_id ): string {
		return '/api/orders/' . rawurlencode( $this->settings->store() ) . '/' . $order_id;
	}
}
