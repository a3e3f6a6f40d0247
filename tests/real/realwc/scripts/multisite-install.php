<?php
// A WordPress multisite network in sub-directory mode, for wcsync's real-store tests (tests/real/multisite.py).
//
//   php multisite-install.php <site_dir> <network_url> network <title>
//       single-site install (admin/adminpass, UTC, /%postname%/), then the network tables and the
//       network itself (install_network + populate_network). Run before wp-config declares MULTISITE.
//   php multisite-install.php <site_dir> <network_url> sites <slug>...
//       with MULTISITE on: the sub-sites /<slug>/ (admin as their administrator), their settings,
//       and WooCommerce network-activated.
// Idempotent: what exists is kept. Diagnostics on stdout.
require __DIR__ . '/common.php';
$step = $argv[3] ?? '';
$base = $wcrig_base;
if ( 'network' === $step ) {
	define( 'WP_INSTALLING', true );
}
require $wcrig_site . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
global $wpdb, $wp_rewrite;

function wcsync_ms_site_settings() {
	global $wp_rewrite;
	update_option( 'timezone_string', 'UTC' );
	update_option( 'gmt_offset', 0 );
	update_option( 'blog_public', '0' );
	update_option( 'default_pingback_flag', '0' );
	update_option( 'default_ping_status', 'closed' );
	$wp_rewrite->init();
	$wp_rewrite->set_permalink_structure( '/%postname%/' );
	$wp_rewrite->flush_rules( false );
}

$u      = parse_url( $base );
$domain = $u['host'] . ( isset( $u['port'] ) ? ':' . $u['port'] : '' );

if ( 'network' === $step ) {
	if ( ! is_blog_installed() ) {
		$r = wp_install( $argv[4] ?? 'wcsync network', 'admin', 'admin@example.test', false, '', 'adminpass' );
		echo "installed WordPress, admin user id {$r['user_id']}\n";
	}
	$admin = get_user_by( 'login', 'admin' );
	wp_set_password( 'adminpass', $admin->ID );
	wp_set_current_user( $admin->ID );
	update_option( 'siteurl', $base );
	update_option( 'home', $base );
	wcsync_ms_site_settings();
	// As wp-admin/network.php does: the network's global tables, which a single site does not name.
	foreach ( $wpdb->tables( 'ms_global' ) as $table => $prefixed_table ) {
		$wpdb->$table = $prefixed_table;
	}
	install_network();
	if ( ! $wpdb->get_var( $wpdb->prepare( "SELECT id FROM {$wpdb->site} WHERE id = %d", 1 ) ) ) {
		$r = populate_network( 1, $domain, 'admin@example.test', $argv[4] ?? 'wcsync network', '/', false );
		if ( is_wp_error( $r ) && 'no_wildcard_dns' !== $r->get_error_code() ) {
			fwrite( STDERR, 'populate_network: ' . $r->get_error_message() . "\n" );
			exit( 1 );
		}
		echo "network created on $domain\n";
	} else {
		echo "network exists\n";
	}
	echo "network ready\n";
	exit( 0 );
}

if ( 'sites' !== $step || ! is_multisite() ) {
	fwrite( STDERR, "usage: multisite-install.php <site_dir> <network_url> network|sites ... (sites needs MULTISITE on)\n" );
	exit( 2 );
}
$admin = get_user_by( 'login', 'admin' );
wp_set_current_user( $admin->ID );
grant_super_admin( $admin->ID );
foreach ( array_slice( $argv, 4 ) as $slug ) {
	$path = '/' . $slug . '/';
	$id   = get_blog_id_from_url( $domain, $path );
	if ( ! $id ) {
		$id = wpmu_create_blog( $domain, $path, 'wcsync ' . $slug, $admin->ID, array( 'public' => 0 ), 1 );
		if ( is_wp_error( $id ) ) {
			fwrite( STDERR, "$slug: " . $id->get_error_message() . "\n" );
			exit( 1 );
		}
		echo "created sub-site $slug (blog $id)\n";
	}
	switch_to_blog( $id );
	wcsync_ms_site_settings();
	restore_current_blog();
}
if ( ! is_plugin_active_for_network( 'woocommerce/woocommerce.php' ) ) {
	$r = activate_plugin( 'woocommerce/woocommerce.php', '', true );
	if ( is_wp_error( $r ) ) {
		fwrite( STDERR, 'WooCommerce: ' . $r->get_error_message() . "\n" );
		exit( 1 );
	}
	echo "WooCommerce network-activated\n";
}
echo "sites ready\n";
