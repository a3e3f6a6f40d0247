<?php
/**
 * Removes the plugin's options and caches when it is deleted.
 *
 * @package Wcsync_Admin
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

delete_option( 'wcsync_admin_settings' );
delete_option( 'wcsync_admin_token' );
delete_transient( 'wcsync_admin_pending' );
delete_transient( 'wcsync_admin_role' );
