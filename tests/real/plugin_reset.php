<?php
/**
 * Puts a real store back to "wcsync-admin never installed": deactivates the plugin, forgets its
 * settings and caches, and removes its folder, so that a test installs and activates it afresh
 * through the Plugins screen even on stores kept from an earlier run.
 *
 * Usage: php plugin_reset.php <site dir> <base url>
 */

require __DIR__ . '/realwc/scripts/common.php';
require $wcrig_site . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$plugin = 'wcsync-admin/wcsync-admin.php';
if ( is_plugin_active( $plugin ) ) {
	deactivate_plugins( $plugin, true );
}
foreach ( array( 'wcsync_admin_settings', 'wcsync_admin_token', 'wcsync_admin_version' ) as $option ) {
	delete_option( $option );
}
foreach ( array( 'wcsync_admin_pending', 'wcsync_admin_role' ) as $transient ) {
	delete_transient( $transient );
}
echo is_plugin_active( $plugin ) ? "still active\n" : "inactive\n";
