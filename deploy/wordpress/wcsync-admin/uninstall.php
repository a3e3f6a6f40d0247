<?php
/**
 * Removes the plugin's options and caches when it is deleted: on every site of a multisite
 * network (the plugin may have been set up on each of them), else on this site.
 *
 * @package Wcsync_Admin
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

/**
 * Forget the current site's settings, token and caches.
 */
function wcsync_admin_uninstall_site(): void {
	foreach ( array( 'wcsync_admin_settings', 'wcsync_admin_token', 'wcsync_admin_version' ) as $option ) {
		delete_option( $option );
	}
	foreach ( array( 'wcsync_admin_pending', 'wcsync_admin_role' ) as $transient ) {
		delete_transient( $transient );
	}
	// The origin links cached per replica origin: wcsync_admin_origin_<md5>.
	global $wpdb;
	$like = $wpdb->esc_like( '_transient_wcsync_admin_origin_' ) . '%';
	$names = $wpdb->get_col( $wpdb->prepare( "SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s", $like ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	foreach ( (array) $names as $name ) {
		delete_transient( substr( (string) $name, strlen( '_transient_' ) ) );
	}
}

if ( is_multisite() ) {
	$wcsync_admin_sites = get_sites(
		array(
			'fields' => 'ids',
			'number' => 0,
		)
	);
	foreach ( $wcsync_admin_sites as $wcsync_admin_site ) {
		switch_to_blog( (int) $wcsync_admin_site );
		wcsync_admin_uninstall_site();
		restore_current_blog();
	}
} else {
	wcsync_admin_uninstall_site();
}
