<?php
/**
 * Reads what the wcsync-admin plugin left in a real store's database, as JSON: the token option's
 * autoload flag straight from wp_options, and the plugin's saved summary.
 *
 * Usage: php plugin_probe.php <site dir> <base url>
 */

require __DIR__ . '/realwc/scripts/common.php';
require $wcrig_site . '/wp-load.php';

global $wpdb;
$row = $wpdb->get_row( $wpdb->prepare( "SELECT option_value, autoload FROM {$wpdb->options} WHERE option_name = %s", 'wcsync_admin_token' ), ARRAY_A );
echo wp_json_encode(
	array(
		'token_autoload' => $row ? $row['autoload'] : null,
		'token_saved'    => $row ? '' !== $row['option_value'] : false,
		'summary'        => get_transient( 'wcsync_admin_pending' ),
	)
);
