<?php
/**
 * Activates or deactivates the wcsync-admin plugin of a real store from the command line, keeping
 * its settings: the page-load comparison switches it many times, between loads.
 *
 * Usage: php plugin_toggle.php <site dir> <base url> on|off
 */

require __DIR__ . '/realwc/scripts/common.php';
require $wcrig_site . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$plugin = 'wcsync-admin/wcsync-admin.php';
if ( 'on' === $argv[3] ) {
	$result = activate_plugin( $plugin );
	if ( is_wp_error( $result ) ) {
		fwrite( STDERR, $result->get_error_message() . "\n" );
		exit( 1 );
	}
} else {
	deactivate_plugins( $plugin, true );
}
echo is_plugin_active( $plugin ) ? "active\n" : "inactive\n";
