<?php
/**
 * Sets a real store's permalinks from the command line: plain (`?p=123`, no /wp-json/ URLs) or
 * pretty (`/%postname%/`, as the kit sets them up), the rewrite rules flushed as
 * Settings > Permalinks does.
 *
 * Usage: php permalinks.php <site dir> <base url> plain|pretty
 */

require __DIR__ . '/realwc/scripts/common.php';
require $wcrig_site . '/wp-load.php';

global $wp_rewrite;
$wp_rewrite->set_permalink_structure( 'plain' === $argv[3] ? '' : '/%postname%/' );
$wp_rewrite->flush_rules( false );
echo 'permalink_structure=' . get_option( 'permalink_structure' ) . "\n";
