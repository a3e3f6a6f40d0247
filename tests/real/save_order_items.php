<?php
/**
 * Saves an order's items as the order screen's items box does (its Save button posts them to
 * the woocommerce_save_order_items AJAX action, which calls wc_save_order_items), from the
 * command line, signed in as the store's admin. Prints the order's modified date and total after
 * the save, as JSON.
 *
 * Usage: php save_order_items.php <site dir> <base url> <order id> <items as JSON>
 * The items are the form the items box posts: {"order_item_id": [..], "order_item_qty": {id: n},
 * "line_subtotal": {id: "x"}, "line_total": {id: "x"}, ...}.
 */

require __DIR__ . '/realwc/scripts/common.php';
define( 'WP_ADMIN', true );
require $wcrig_site . '/wp-load.php';
require_once WC_ABSPATH . 'includes/admin/wc-admin-functions.php';

wp_set_current_user( 1 );
$order_id = (int) $argv[3];
$items    = json_decode( $argv[4], true );
wc_save_order_items( $order_id, $items );
$order = wc_get_order( $order_id );
echo wp_json_encode(
	array(
		'date_modified_gmt' => gmdate( 'Y-m-d\TH:i:s', $order->get_date_modified()->getTimestamp() ),
		'total'             => $order->get_total(),
	)
);
