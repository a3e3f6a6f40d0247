<?php
/**
 * Plugin Name:       wcsync Admin
 * Description:       Shows wcsync's order replication inside WooCommerce: the number of orders waiting to sync, a Sync Now button on the Orders screen and a Sync Order box on each order.
 * Version:           0.2.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Requires Plugins:  woocommerce
 * Author:            wcsync
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       wcsync-admin
 * Domain Path:       /languages
 * WC requires at least: 7.8
 * WC tested up to:     10.6
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

define( 'WCSYNC_ADMIN_VERSION', '0.2.0' );
define( 'WCSYNC_ADMIN_FILE', __FILE__ );
define( 'WCSYNC_ADMIN_DIR', plugin_dir_path( __FILE__ ) );

require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-settings.php';
require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-text.php';
require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-client.php';
require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-rest.php';
require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-orders.php';
require_once WCSYNC_ADMIN_DIR . 'includes/class-wcsync-admin-woocommerce.php';

// The plugin reads and writes orders only through WooCommerce's own APIs, so it works with
// both order storages (posts and HPOS).
add_action(
	'before_woocommerce_init',
	static function () {
		if ( class_exists( \Automattic\WooCommerce\Utilities\FeaturesUtil::class ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', WCSYNC_ADMIN_FILE, true );
		}
	}
);

add_action(
	'init',
	static function () {
		load_plugin_textdomain( 'wcsync-admin', false, dirname( plugin_basename( WCSYNC_ADMIN_FILE ) ) . '/languages' );
	}
);

add_action(
	'plugins_loaded',
	static function () {
		$settings = new Wcsync_Admin_Settings();
		$settings->register();

		$client = new Wcsync_Admin_Client( $settings );

		$rest = new Wcsync_Admin_Rest( $settings, $client );
		$rest->register();

		// The optional WooCommerce behaviours apply on every request that may send an email
		// or answer /wc/v3/orders, not only in wp-admin.
		$woocommerce = new Wcsync_Admin_WooCommerce( $settings );
		$woocommerce->register();

		if ( is_admin() ) {
			$orders = new Wcsync_Admin_Orders( $settings, $client );
			$orders->register();
		}
	}
);
