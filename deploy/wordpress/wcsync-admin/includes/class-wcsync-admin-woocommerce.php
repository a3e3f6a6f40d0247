<?php
/**
 * Optional WooCommerce behaviours, each off until turned on in the settings:
 * - no customer emails for orders wcsync copied here (they carry _wcsync_origin), so a
 *   customer is emailed once, by the store where they ordered;
 * - wcsync_origin=<store>:<id> as a filter on /wc/v3/orders, so wcsync finds a replica in one
 *   request instead of listing recent orders. It goes through wc_get_orders' meta_query, which
 *   both the posts storage and HPOS support.
 * Always on: wcsync's private line meta (_wcsync_origin_item and any other _wcsync_ key) is kept
 * out of the order items box; and on the posts storage every save of an order moves its modified
 * date, so that wcsync sees edits WooCommerce would hide (line items saved in the items box,
 * addresses, totals, payment details and meta keep the old date there: only a change of the post
 * row itself, such as the status, moves it). HPOS moves the date on every save by itself.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * Hooks into WooCommerce's emails and REST orders query.
 */
class Wcsync_Admin_WooCommerce {

	const ORIGIN_META = '_wcsync_origin';
	// The private meta wcsync writes on a replica's lines and refunds.
	const PRIVATE_ITEM_META = array( '_wcsync_origin_item', '_wcsync_origin_refund', '_wcsync_origin', '_wcsync_origin_total', '_wcsync_lines_elsewhere' );

	/**
	 * The plugin's settings.
	 *
	 * @var Wcsync_Admin_Settings
	 */
	private Wcsync_Admin_Settings $settings;

	/**
	 * Build the hooks.
	 *
	 * @param Wcsync_Admin_Settings $settings The plugin's settings.
	 */
	public function __construct( Wcsync_Admin_Settings $settings ) {
		$this->settings = $settings;
	}

	/**
	 * The customer emails that are not sent for replicas.
	 *
	 * @return string[]
	 */
	public static function customer_email_ids(): array {
		$ids = array(
			'customer_on_hold_order',
			'customer_processing_order',
			'customer_completed_order',
			'customer_refunded_order',
			'customer_partially_refunded_order',
			'customer_invoice',
			'customer_note',
			'customer_failed_order',
			'customer_cancelled_order',
		);
		/**
		 * Filters the ids of the customer emails that wcsync Admin suppresses for replicas.
		 *
		 * @param string[] $ids Email ids.
		 */
		return (array) apply_filters( 'wcsync_admin_suppressed_emails', $ids );
	}

	/**
	 * Hook in the behaviours that are turned on, and advertise them in the REST index.
	 */
	public function register(): void {
		if ( $this->settings->enabled( 'suppress_emails' ) ) {
			foreach ( self::customer_email_ids() as $id ) {
				add_filter( 'woocommerce_email_enabled_' . $id, array( $this, 'email_enabled' ), 20, 2 );
				add_filter( 'woocommerce_email_recipient_' . $id, array( $this, 'email_recipient' ), 20, 2 );
			}
		}
		if ( $this->settings->enabled( 'origin_filter' ) ) {
			add_filter( 'woocommerce_rest_orders_prepare_object_query', array( $this, 'filter_by_origin' ), 10, 2 );
		}
		add_action( 'woocommerce_before_order_object_save', array( $this, 'mark_changed' ), 10, 1 );
		add_filter( 'rest_index', array( $this, 'advertise' ) );
		add_filter( 'woocommerce_hidden_order_itemmeta', array( $this, 'hide_item_meta' ) );
		add_filter( 'woocommerce_order_item_get_formatted_meta_data', array( $this, 'drop_private_meta' ), 10, 1 );
	}

	/**
	 * Whether orders are kept as posts here (the storage whose dates hide edits).
	 */
	public static function posts_storage(): bool {
		if ( ! class_exists( \Automattic\WooCommerce\Utilities\OrderUtil::class ) ) {
			return true;
		}
		return ! \Automattic\WooCommerce\Utilities\OrderUtil::custom_orders_table_usage_is_enabled();
	}

	/**
	 * Move an order's modified date on every save of an order that exists (posts storage only).
	 * wc_save_order_items (the items box), the order screen's save and REST edits all end in
	 * $order->save(); with date_modified among the changes WooCommerce writes the post row,
	 * post_modified included, where it would otherwise keep the old date.
	 *
	 * @param mixed $order The order being saved.
	 */
	public function mark_changed( $order ): void {
		if ( ! $order instanceof WC_Order || ! $order->get_id() || ! self::posts_storage() ) {
			return;
		}
		if ( array_key_exists( 'date_modified', $order->get_changes() ) ) {
			return; // already moved (a status change, or another plugin)
		}
		$order->set_date_modified( time() );
	}

	/**
	 * wcsync's line meta among the keys the order items box never shows.
	 *
	 * @param mixed $keys Hidden meta keys.
	 * @return array<int, string>
	 */
	public function hide_item_meta( $keys ): array {
		$keys = is_array( $keys ) ? $keys : array();
		return array_values( array_unique( array_merge( $keys, self::PRIVATE_ITEM_META ) ) );
	}

	/**
	 * Any other _wcsync_ key too (a newer wcsync may add one): out of the formatted meta that
	 * the items box, emails and invoices show.
	 *
	 * @param mixed $formatted Formatted meta, by meta id (objects with a key).
	 * @return array<int|string, mixed>
	 */
	public function drop_private_meta( $formatted ): array {
		$formatted = is_array( $formatted ) ? $formatted : array();
		return array_filter(
			$formatted,
			static fn( $meta ) => ! ( is_object( $meta ) && isset( $meta->key ) && str_starts_with( (string) $meta->key, '_wcsync_' ) )
		);
	}

	/**
	 * Whether an email's object is an order that wcsync copied here.
	 *
	 * @param mixed $order The email's object.
	 */
	public static function is_replica( $order ): bool {
		return $order instanceof WC_Order && '' !== (string) $order->get_meta( self::ORIGIN_META );
	}

	/**
	 * Turn a customer email off for a replica.
	 *
	 * @param bool  $enabled Whether the email is enabled.
	 * @param mixed $order   The email's object.
	 */
	public function email_enabled( $enabled, $order ): bool {
		return self::is_replica( $order ) ? false : (bool) $enabled;
	}

	/**
	 * No recipient for a replica: a second guard for code that sends without asking is_enabled().
	 *
	 * @param string $recipient The recipients.
	 * @param mixed  $order     The email's object.
	 */
	public function email_recipient( $recipient, $order ): string {
		return self::is_replica( $order ) ? '' : (string) $recipient;
	}

	/**
	 * Add wcsync_origin=<store>:<id> to the orders collection query as a meta query.
	 *
	 * @param array<string, mixed> $args    Query arguments for wc_get_orders / WP_Query.
	 * @param WP_REST_Request      $request The REST request.
	 * @return array<string, mixed>
	 */
	public function filter_by_origin( $args, $request ): array {
		$args   = is_array( $args ) ? $args : array();
		$origin = $request instanceof WP_REST_Request ? $request->get_param( 'wcsync_origin' ) : null;
		if ( ! is_string( $origin ) || '' === $origin ) {
			return $args;
		}
		$origin = sanitize_text_field( $origin );
		if ( ! preg_match( '/^[a-z0-9][a-z0-9_-]{0,63}:[0-9]{1,20}$/', $origin ) ) {
			// An unusable filter must not widen the answer to every order.
			$origin = 'invalid:0';
		}
		$meta_query   = isset( $args['meta_query'] ) && is_array( $args['meta_query'] ) ? $args['meta_query'] : array(); // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_query -- the whole point; indexed by meta_key.
		$meta_query[] = array(
			'key'     => self::ORIGIN_META,
			'value'   => $origin,
			'compare' => '=',
		);
		$args['meta_query'] = $meta_query; // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_query
		return $args;
	}

	/**
	 * Tell wcsync's store check, which reads /wp-json/, what this site supports.
	 *
	 * @param WP_REST_Response $response The REST index.
	 * @return WP_REST_Response
	 */
	public function advertise( $response ) {
		if ( $response instanceof WP_REST_Response ) {
			$data                 = $response->get_data();
			$data['wcsync_admin'] = array(
				'origin_filter'   => $this->settings->enabled( 'origin_filter' ),
				'suppress_emails' => $this->settings->enabled( 'suppress_emails' ),
				// Every save of an order moves its date (see mark_changed): wcsync needs no
				// content check of this store.
				'marks_changes'   => true,
			);
			$response->set_data( $data );
		}
		return $response;
	}
}
