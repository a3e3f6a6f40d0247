<?php
/**
 * Plugin Name: wcsync test shop: order statuses registered by a plugin (must-use)
 * Description: Registers custom order statuses the way shipping and pickup plugins do
 * (register_post_status + the wc_order_statuses filter; HPOS reads the same filter). Which
 * store registers which status is decided by the store's name (WCRIG_STORE, written into
 * wp-config.php by the realwc kit), so that a target that has a status and one that lacks it
 * both occur:
 *
 *   wc-awaiting-pickup  "Awaiting pickup"  on every store
 *   wc-shipped          "Shipped"          on main and sub1, NOT on sub2
 *
 * The option `wcsync_test_statuses_off` (a comma-separated list of slugs without "wc-") turns
 * statuses off on one store, for a test that needs a store to lack one for a moment.
 */

defined( 'ABSPATH' ) || exit;

function wcsync_test_statuses() {
	$store    = defined( 'WCRIG_STORE' ) ? WCRIG_STORE : '';
	$statuses = array( 'wc-awaiting-pickup' => 'Awaiting pickup' );
	if ( 'sub2' !== $store ) {
		$statuses['wc-shipped'] = 'Shipped';
	}
	$off = array_filter( array_map( 'trim', explode( ',', (string) get_option( 'wcsync_test_statuses_off', '' ) ) ) );
	foreach ( $off as $slug ) {
		unset( $statuses[ 'wc-' . $slug ] );
	}
	return $statuses;
}

add_action(
	'init',
	function () {
		foreach ( wcsync_test_statuses() as $slug => $label ) {
			register_post_status(
				$slug,
				array(
					'label'                     => $label,
					'public'                    => true,
					'exclude_from_search'       => false,
					'show_in_admin_all_list'    => true,
					'show_in_admin_status_list' => true,
					/* translators: %s: number of orders */
					'label_count'               => _n_noop( $label . ' <span class="count">(%s)</span>', $label . ' <span class="count">(%s)</span>' ),
				)
			);
		}
	}
);

add_filter(
	'wc_order_statuses',
	function ( $statuses ) {
		$added = wcsync_test_statuses();
		$out   = array();
		foreach ( $statuses as $slug => $label ) {
			$out[ $slug ] = $label;
			if ( 'wc-processing' === $slug ) {
				$out += $added; // after Processing, as shop plugins place them
			}
		}
		return $out + $added;
	}
);
