<?php
/**
 * wcsync on WooCommerce's order screens: a notice with the pending count and Sync Now on
 * the Orders list, a count bubble on the Orders menu item and a Sync Order box on each
 * order. Works with the classic posts storage and with HPOS.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * The order screens.
 */
class Wcsync_Admin_Orders {

	const HANDLE = 'wcsync-admin';

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
	 * Build the screens.
	 *
	 * @param Wcsync_Admin_Settings $settings The plugin's settings.
	 * @param Wcsync_Admin_Client   $client   The wcsync client.
	 */
	public function __construct( Wcsync_Admin_Settings $settings, Wcsync_Admin_Client $client ) {
		$this->settings = $settings;
		$this->client   = $client;
	}

	/**
	 * Hook into the admin.
	 */
	public function register(): void {
		add_action( 'admin_enqueue_scripts', array( $this, 'enqueue' ) );
		add_action( 'admin_notices', array( $this, 'orders_notice' ) );
		// After WooCommerce has added its Orders item (priority 9 and 50).
		add_action( 'admin_menu', array( $this, 'menu_bubble' ), 999 );
		add_action( 'add_meta_boxes', array( $this, 'add_meta_box' ) );
	}

	/**
	 * The screen id of the order edit screen: shop_order with posts, woocommerce_page_wc-orders with HPOS.
	 */
	private function order_screen_id(): string {
		if ( function_exists( 'wc_get_page_screen_id' ) ) {
			return (string) wc_get_page_screen_id( 'shop-order' );
		}
		return 'shop_order';
	}

	/**
	 * Whether the current screen is the Orders list (classic edit.php?post_type=shop_order or HPOS admin.php?page=wc-orders).
	 */
	private function is_orders_list(): bool {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( ! $screen ) {
			return false;
		}
		if ( 'edit-shop_order' === $screen->id ) {
			return true;
		}
		// HPOS uses one screen id for the list and the edit form; the action tells them apart.
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reading which page this is, nothing is changed.
		$action = isset( $_GET['action'] ) ? sanitize_key( wp_unslash( $_GET['action'] ) ) : '';
		return 'woocommerce_page_wc-orders' === $screen->id && ! in_array( $action, array( 'edit', 'new' ), true );
	}

	/**
	 * Whether the current screen edits one order (either storage).
	 */
	private function is_order_edit(): bool {
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( ! $screen ) {
			return false;
		}
		if ( 'shop_order' === $screen->id ) {
			return true;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reading which page this is, nothing is changed.
		$action = isset( $_GET['action'] ) ? sanitize_key( wp_unslash( $_GET['action'] ) ) : '';
		return 'woocommerce_page_wc-orders' === $screen->id && 'edit' === $action;
	}

	/**
	 * Load the script and style on the order screens and the settings page. The script gets
	 * the REST root and a wp_rest nonce, never the token.
	 *
	 * @param string $hook_suffix The admin page.
	 */
	public function enqueue( string $hook_suffix ): void {
		$settings_page = 'woocommerce_page_' . Wcsync_Admin_Settings::PAGE === $hook_suffix;
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return;
		}
		if ( ! $settings_page && ! $this->is_orders_list() && ! $this->is_order_edit() ) {
			return;
		}
		$base = plugin_dir_url( WCSYNC_ADMIN_FILE );
		wp_enqueue_style( self::HANDLE, $base . 'assets/wcsync-admin.css', array(), WCSYNC_ADMIN_VERSION );
		wp_enqueue_script( self::HANDLE, $base . 'assets/wcsync-admin.js', array(), WCSYNC_ADMIN_VERSION, true );
		wp_localize_script(
			self::HANDLE,
			'wcsyncAdmin',
			array(
				'root'  => esc_url_raw( rest_url( Wcsync_Admin_Rest::REST_NAMESPACE . '/' ) ),
				'nonce' => wp_create_nonce( 'wp_rest' ),
				'store' => $this->settings->store(),
				'i18n'  => array(
					'checking'     => __( 'Checking wcsync…', 'wcsync-admin' ),
					'pendingNone'  => __( 'No order of this store is waiting to sync.', 'wcsync-admin' ),
					/* translators: %d: number of orders. */
					'pendingOne'   => __( '%d order of this store is waiting to sync.', 'wcsync-admin' ),
					/* translators: %d: number of orders. */
					'pendingMany'  => __( '%d orders of this store are waiting to sync.', 'wcsync-admin' ),
					/* translators: %d: number of orders. */
					'failed'       => __( '%d failed and need attention.', 'wcsync-admin' ),
					'queued'       => __( 'Sync queued…', 'wcsync-admin' ),
					'looking'      => __( 'Looking for orders to sync…', 'wcsync-admin' ),
					/* translators: 1: orders done, 2: orders in the run. */
					'progress'     => __( 'Syncing: %1$d of %2$d orders…', 'wcsync-admin' ),
					/* translators: 1: created, 2: updated, 3: skipped, 4: failed. */
					'finished'     => __( 'Sync finished: %1$d created, %2$d updated, %3$d skipped, %4$d failed.', 'wcsync-admin' ),
					'syncing'      => __( 'Syncing this order…', 'wcsync-admin' ),
					'noLinks'      => __( 'wcsync has not copied this order anywhere yet.', 'wcsync-admin' ),
					'target'       => __( 'Copied to', 'wcsync-admin' ),
					'replica'      => __( 'Replica', 'wcsync-admin' ),
					'state'        => __( 'State', 'wcsync-admin' ),
					'lastError'    => __( 'Last error', 'wcsync-admin' ),
					'notYet'       => __( 'not yet', 'wcsync-admin' ),
					'connected'    => __( 'Connected: wcsync knows this store as', 'wcsync-admin' ),
					'error'        => __( 'wcsync could not be reached.', 'wcsync-admin' ),
				),
			)
		);
	}

	/**
	 * The notice on the Orders list: pending count (filled in by the script) and Sync Now.
	 */
	public function orders_notice(): void {
		if ( ! $this->is_orders_list() || ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return;
		}
		if ( ! $this->settings->is_configured() ) {
			printf(
				'<div class="notice notice-warning"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
				esc_html__( 'wcsync is not set up yet.', 'wcsync-admin' ),
				esc_url( admin_url( 'admin.php?page=' . Wcsync_Admin_Settings::PAGE ) ),
				esc_html__( 'Enter its URL and token.', 'wcsync-admin' )
			);
			return;
		}
		?>
		<div class="notice notice-info wcsync-admin-notice" id="wcsync-admin-notice">
			<p>
				<strong><?php esc_html_e( 'wcsync', 'wcsync-admin' ); ?>:</strong>
				<span id="wcsync-admin-pending" aria-live="polite"><?php esc_html_e( 'Checking wcsync…', 'wcsync-admin' ); ?></span>
				<button type="button" class="button button-primary" id="wcsync-admin-sync-now"><?php esc_html_e( 'Sync Now', 'wcsync-admin' ); ?></button>
			</p>
			<p class="wcsync-admin-progress" hidden>
				<label for="wcsync-admin-progress-bar" class="screen-reader-text"><?php esc_html_e( 'Sync progress', 'wcsync-admin' ); ?></label>
				<progress id="wcsync-admin-progress-bar" max="1"></progress>
				<span id="wcsync-admin-progress-text" role="status" aria-live="polite"></span>
			</p>
		</div>
		<?php
	}

	/**
	 * A bubble with the pending count on the Orders menu item (both storages).
	 */
	public function menu_bubble(): void {
		global $submenu;
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) || empty( $submenu['woocommerce'] ) || ! $this->settings->is_configured() ) {
			return;
		}
		$count = $this->client->cached_pending_count();
		if ( null === $count || $count < 1 ) {
			return;
		}
		foreach ( $submenu['woocommerce'] as $index => $item ) {
			$slug = isset( $item[2] ) ? (string) $item[2] : '';
			if ( 'edit.php?post_type=shop_order' !== $slug && 'wc-orders' !== $slug ) {
				continue;
			}
			$submenu['woocommerce'][ $index ][0] .= sprintf( // phpcs:ignore WordPress.WP.GlobalVariablesOverride.Prohibited -- adding a count bubble is what this menu is for.
				' <span class="awaiting-mod wcsync-admin-bubble count-%1$d" title="%2$s"><span class="wcsync-admin-count">%3$s</span></span>',
				absint( $count ),
				esc_attr__( 'Orders waiting for wcsync', 'wcsync-admin' ),
				esc_html( number_format_i18n( $count ) )
			);
			break;
		}
	}

	/**
	 * The Sync Order box on the order edit screen (both storages).
	 */
	public function add_meta_box(): void {
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return;
		}
		// WordPress puts this id on the box's outer postbox: it must differ from the inner div's
		// id, which the script reads the order id from.
		add_meta_box(
			'wcsync-admin-order-box',
			__( 'Sync Order', 'wcsync-admin' ),
			array( $this, 'render_meta_box' ),
			$this->order_screen_id(),
			'side',
			'default'
		);
	}

	/**
	 * The box's contents: the links are loaded by the script.
	 *
	 * @param WP_Post|WC_Order $post_or_order The post (posts storage) or the order (HPOS).
	 */
	public function render_meta_box( $post_or_order ): void {
		$order = $post_or_order instanceof WP_Post ? wc_get_order( $post_or_order->ID ) : $post_or_order;
		if ( ! $order instanceof WC_Order ) {
			echo '<p>' . esc_html__( 'Save the order first.', 'wcsync-admin' ) . '</p>';
			return;
		}
		if ( ! $this->settings->is_configured() ) {
			printf(
				'<p>%1$s <a href="%2$s">%3$s</a></p>',
				esc_html__( 'wcsync is not set up yet.', 'wcsync-admin' ),
				esc_url( admin_url( 'admin.php?page=' . Wcsync_Admin_Settings::PAGE ) ),
				esc_html__( 'Settings', 'wcsync-admin' )
			);
			return;
		}
		$origin = (string) $order->get_meta( '_wcsync_origin' );
		?>
		<div class="wcsync-admin-order" id="wcsync-admin-order" data-order-id="<?php echo esc_attr( (string) $order->get_id() ); ?>">
			<?php if ( '' !== $origin ) : ?>
				<p class="wcsync-admin-origin">
					<?php
					/* translators: %s: the origin order, as store:id. */
					echo esc_html( sprintf( __( 'This order is a copy of %s.', 'wcsync-admin' ), $origin ) );
					?>
				</p>
			<?php endif; ?>
			<div id="wcsync-admin-links" aria-live="polite"><p><?php esc_html_e( 'Checking wcsync…', 'wcsync-admin' ); ?></p></div>
			<p>
				<button type="button" class="button" id="wcsync-admin-sync-order"><?php esc_html_e( 'Sync Order', 'wcsync-admin' ); ?></button>
				<span id="wcsync-admin-order-status" role="status" aria-live="polite"></span>
			</p>
		</div>
		<?php
	}
}
