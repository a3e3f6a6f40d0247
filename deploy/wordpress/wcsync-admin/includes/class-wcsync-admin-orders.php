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
	 * Hook into the admin. Nothing here calls wcsync while a page is made: the bubble, the notice
	 * and the marks come from the last summary, which the script refreshes after the page loads.
	 */
	public function register(): void {
		add_action( 'admin_enqueue_scripts', array( $this, 'enqueue' ) );
		add_action( 'admin_notices', array( $this, 'orders_notice' ) );
		// After WooCommerce has added its Orders item (priority 9 and 50).
		add_action( 'admin_menu', array( $this, 'menu_bubble' ), 999 );
		add_action( 'add_meta_boxes', array( $this, 'add_meta_box' ) );
		// A mark on failed orders in the Orders list: the posts list and the HPOS list.
		add_filter( 'manage_edit-shop_order_columns', array( $this, 'add_column' ), 20 );
		add_action( 'manage_shop_order_posts_custom_column', array( $this, 'render_column_post' ), 10, 2 );
		add_filter( 'manage_woocommerce_page_wc-orders_columns', array( $this, 'add_column' ), 20 );
		add_action( 'manage_woocommerce_page_wc-orders_custom_column', array( $this, 'render_column_order' ), 10, 2 );
	}

	/**
	 * The list of this store's failed orders (a tab of the settings page).
	 */
	public static function failed_url(): string {
		return admin_url( 'admin.php?page=' . Wcsync_Admin_Settings::PAGE . '&tab=failed' );
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
	 * The style on every admin page (the menu bubble is on every page); the script where it has
	 * work: the order screens and the settings page, and any page whose summary is stale (it
	 * refreshes it after the page has loaded). The script gets the REST root and a wp_rest
	 * nonce, never the token.
	 *
	 * @param string $hook_suffix The admin page.
	 */
	public function enqueue( string $hook_suffix ): void {
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return;
		}
		$base = plugin_dir_url( WCSYNC_ADMIN_FILE );
		wp_enqueue_style( self::HANDLE, $base . 'assets/wcsync-admin.css', array(), WCSYNC_ADMIN_VERSION );
		$settings_page = 'woocommerce_page_' . Wcsync_Admin_Settings::PAGE === $hook_suffix;
		$orders_page   = $this->is_orders_list() || $this->is_order_edit();
		$configured    = $this->settings->is_configured();
		$stale         = $configured && $this->client->summary_is_stale( $orders_page );
		if ( ! $settings_page && ! ( $configured && ( $orders_page || $stale ) ) ) {
			return;
		}
		wp_enqueue_script( self::HANDLE, $base . 'assets/wcsync-admin.js', array(), WCSYNC_ADMIN_VERSION, true );
		wp_localize_script(
			self::HANDLE,
			'wcsyncAdmin',
			array(
				'root'        => esc_url_raw( rest_url( Wcsync_Admin_Rest::REST_NAMESPACE . '/' ) ),
				'nonce'       => wp_create_nonce( 'wp_rest' ),
				'store'       => $this->settings->store(),
				// A string: localized values all become strings, and "0" would be true in JS.
				'refresh'     => $stale ? 'yes' : '',
				'failedUrl'   => self::failed_url(),
				'settingsUrl' => Wcsync_Admin_Client::settings_url(),
				'i18n'        => array(
					'checking'     => __( 'Checking wcsync…', 'wcsync-admin' ),
					'queued'       => __( 'Sync queued…', 'wcsync-admin' ),
					'syncing'      => __( 'Syncing this order…', 'wcsync-admin' ),
					'noLinks'      => __( 'wcsync has not copied this order anywhere yet.', 'wcsync-admin' ),
					'target'       => __( 'Copied to', 'wcsync-admin' ),
					'replica'      => __( 'Replica', 'wcsync-admin' ),
					'state'        => __( 'State', 'wcsync-admin' ),
					'lastError'    => __( 'Last error', 'wcsync-admin' ),
					'notYet'       => __( 'not yet', 'wcsync-admin' ),
					'connected'    => __( 'Connected: wcsync knows this store as', 'wcsync-admin' ),
					'error'        => __( 'wcsync could not be reached.', 'wcsync-admin' ),
					'fix'          => __( 'Open the wcsync settings', 'wcsync-admin' ),
					'failedMark'   => __( 'Sync failed', 'wcsync-admin' ),
					'failedTitle'  => __( 'wcsync could not copy this order: see the failed orders.', 'wcsync-admin' ),
					'noFailed'     => __( 'No order of this store has a failed copy.', 'wcsync-admin' ),
					'order'        => __( 'Order', 'wcsync-admin' ),
					'copyTo'       => __( 'Copy to', 'wcsync-admin' ),
					'reason'       => __( 'Reason', 'wcsync-admin' ),
					'attempts'     => __( 'Attempts', 'wcsync-admin' ),
					'retry'        => __( 'Sync Order', 'wcsync-admin' ),
					'copyOf'       => __( 'This order is a copy of', 'wcsync-admin' ),
				),
			)
		);
	}

	/**
	 * The notice on the Orders list: what waits, what failed (a link to the list) or what is
	 * wrong with wcsync, and Sync Now. Drawn from the last summary; the script refreshes it.
	 */
	public function orders_notice(): void {
		if ( ! $this->is_orders_list() || ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) ) {
			return;
		}
		if ( ! $this->settings->is_configured() ) {
			printf(
				'<div class="notice notice-warning"><p>%1$s <a href="%2$s">%3$s</a></p></div>',
				esc_html__( 'wcsync is not set up yet.', 'wcsync-admin' ),
				esc_url( Wcsync_Admin_Client::settings_url() ),
				esc_html__( 'Enter its URL and a store token.', 'wcsync-admin' )
			);
			return;
		}
		$notice  = Wcsync_Admin_Text::notice( $this->client->cached_summary() );
		$classes = array(
			'ok'       => 'notice-info',
			'checking' => 'notice-info',
			'failed'   => 'notice-warning',
			'error'    => 'notice-error',
		);
		$error   = 'error' === $notice['kind'];
		?>
		<div class="notice <?php echo esc_attr( $classes[ $notice['kind'] ] ); ?> wcsync-admin-notice" id="wcsync-admin-notice" data-kind="<?php echo esc_attr( $notice['kind'] ); ?>">
			<p class="wcsync-admin-row">
				<strong><?php esc_html_e( 'wcsync', 'wcsync-admin' ); ?>:</strong>
				<span id="wcsync-admin-pending" aria-live="polite"><?php echo esc_html( $notice['text'] ); ?></span>
				<a id="wcsync-admin-failed" href="<?php echo esc_url( self::failed_url() ); ?>"<?php echo esc_attr( $notice['failed'] > 0 ? '' : ' hidden' ); ?>><?php echo esc_html( $notice['failed_text'] ); ?></a>
				<a id="wcsync-admin-fix" href="<?php echo esc_url( Wcsync_Admin_Client::settings_url() ); ?>"<?php echo esc_attr( '' !== $notice['settings_url'] ? '' : ' hidden' ); ?>><?php esc_html_e( 'Open the wcsync settings', 'wcsync-admin' ); ?></a>
				<button type="button" class="button<?php echo esc_attr( $error ? '' : ' button-primary' ); ?>" id="wcsync-admin-sync-now"><?php esc_html_e( 'Sync Now', 'wcsync-admin' ); ?></button>
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
	 * A bubble with the pending count on the Orders menu item (both storages), from the last
	 * summary: no call to wcsync. Blue and marked with a sync sign, so that it is not taken for
	 * WooCommerce's red count of orders to process.
	 */
	public function menu_bubble(): void {
		global $submenu;
		if ( ! current_user_can( Wcsync_Admin_Settings::CAPABILITY ) || empty( $submenu['woocommerce'] ) || ! $this->settings->is_configured() ) {
			return;
		}
		$count = $this->client->cached_pending_count();
		foreach ( $submenu['woocommerce'] as $index => $item ) {
			$slug = isset( $item[2] ) ? (string) $item[2] : '';
			if ( 'edit.php?post_type=shop_order' !== $slug && 'wc-orders' !== $slug ) {
				continue;
			}
			$count = null === $count ? 0 : $count;
			// Always there (hidden at 0), so that the script can show a count it learns later.
			$submenu['woocommerce'][ $index ][0] .= sprintf( // phpcs:ignore WordPress.WP.GlobalVariablesOverride.Prohibited -- adding a count bubble is what this menu is for.
				' <span class="wcsync-admin-bubble count-%1$d" title="%2$s"%3$s><span aria-hidden="true">&#8635; </span><span class="wcsync-admin-count">%4$s</span><span class="screen-reader-text"> %2$s</span></span>',
				absint( $count ),
				esc_attr( Wcsync_Admin_Text::bubble( $count ) ),
				esc_attr( $count > 0 ? '' : ' hidden' ),
				esc_html( number_format_i18n( $count ) )
			);
			break;
		}
	}

	/**
	 * The wcsync column of the Orders list.
	 *
	 * @param array<string, string> $columns The list's columns.
	 * @return array<string, string>
	 */
	public function add_column( $columns ): array {
		$columns = is_array( $columns ) ? $columns : array();
		if ( ! $this->settings->is_configured() ) {
			return $columns;
		}
		$columns['wcsync_admin'] = esc_html__( 'wcsync', 'wcsync-admin' );
		return $columns;
	}

	/**
	 * The column's cell on the posts list.
	 *
	 * @param string $column  The column.
	 * @param int    $post_id The order's id.
	 */
	public function render_column_post( $column, $post_id ): void {
		if ( 'wcsync_admin' === $column ) {
			$this->render_mark( (int) $post_id );
		}
	}

	/**
	 * The column's cell on the HPOS list.
	 *
	 * @param string   $column The column.
	 * @param WC_Order $order  The order.
	 */
	public function render_column_order( $column, $order ): void {
		if ( 'wcsync_admin' === $column && is_object( $order ) && method_exists( $order, 'get_id' ) ) {
			$this->render_mark( (int) $order->get_id() );
		}
	}

	/**
	 * "Sync failed" on an order of this store whose copy failed, linking to the failed orders;
	 * an empty mark otherwise (the script fills it when it learns more).
	 *
	 * @param int $order_id The order's id.
	 */
	private function render_mark( int $order_id ): void {
		$summary = $this->client->cached_summary();
		$failed  = null !== $summary && in_array( $order_id, (array) ( $summary['failed_ids'] ?? array() ), true );
		if ( ! $failed ) {
			printf( '<span class="wcsync-admin-mark" data-order-id="%1$d"></span>', absint( $order_id ) );
			return;
		}
		printf(
			'<span class="wcsync-admin-mark" data-order-id="%1$d"><a class="wcsync-admin-failed-mark" href="%2$s" title="%3$s">%4$s</a></span>',
			absint( $order_id ),
			esc_url( self::failed_url() ),
			esc_attr__( 'wcsync could not copy this order: see the failed orders.', 'wcsync-admin' ),
			esc_html__( 'Sync failed', 'wcsync-admin' )
		);
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
	 * The box's contents: the links are loaded by the script. A replica names its origin, as a
	 * link to the origin order's admin screen once wcsync has told where that is.
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
				esc_url( Wcsync_Admin_Client::settings_url() ),
				esc_html__( 'Settings', 'wcsync-admin' )
			);
			return;
		}
		$origin = (string) $order->get_meta( '_wcsync_origin' );
		$url    = '' !== $origin ? Wcsync_Admin_Client::cached_origin_url( $origin ) : '';
		?>
		<div class="wcsync-admin-order" id="wcsync-admin-order" data-order-id="<?php echo esc_attr( (string) $order->get_id() ); ?>" data-origin="<?php echo esc_attr( $origin ); ?>">
			<?php if ( '' !== $origin ) : ?>
				<p class="wcsync-admin-origin">
					<?php esc_html_e( 'This order is a copy of', 'wcsync-admin' ); ?>
					<?php if ( '' !== $url ) : ?>
						<a id="wcsync-admin-origin-link" href="<?php echo esc_url( $url ); ?>"><?php echo esc_html( $origin ); ?></a>.
					<?php else : ?>
						<span id="wcsync-admin-origin-link"><?php echo esc_html( $origin ); ?></span>.
					<?php endif; ?>
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
