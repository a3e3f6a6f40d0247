<?php
// Router for PHP's built-in web server in front of a WordPress multisite network in sub-directory
// mode: the rewrites of WordPress' sub-directory .htaccess (and of its nginx recipe), which php -S
// does not have.
//
//   /<site>/wp-admin               -> redirect to /<site>/wp-admin/
//   /<site>/wp-(admin|content|includes)/...  -> the network's file of that name (static or PHP)
//   /<site>/<name>.php             -> the network's <name>.php (wp-login.php, wp-cron.php, ...)
//   an existing file               -> itself;  anything else -> index.php (pretty permalinks, /wp-json/)
//
// REQUEST_URI keeps the sub-site's path, which is how WordPress knows the site.
$__ms_root = $_SERVER['DOCUMENT_ROOT'];
$__ms_path = urldecode( (string) parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
if ( strpos( $__ms_path, '..' ) !== false || strpos( $__ms_path, "\0" ) !== false ) {
	http_response_code( 400 );
	return true;
}
if ( preg_match( '#^/[_0-9a-zA-Z-]+/wp-admin$#', $__ms_path ) ) {
	header( 'Location: ' . $__ms_path . '/', true, 301 );
	return true;
}
$__ms_target = null;
if ( preg_match( '#^/[_0-9a-zA-Z-]+(/wp-(?:content|admin|includes)(?:/.*)?)$#', $__ms_path, $__ms_m ) ) {
	$__ms_target = $__ms_m[1];
} elseif ( preg_match( '#^/[_0-9a-zA-Z-]+(/[^/]+\.php)$#', $__ms_path, $__ms_m ) && is_file( $__ms_root . $__ms_m[1] ) ) {
	$__ms_target = $__ms_m[1];
}
if ( null === $__ms_target ) {
	if ( '/' !== $__ms_path ) {
		$__ms_file = $__ms_root . $__ms_path;
		if ( is_file( $__ms_file ) ) {
			return false; // a file of the network at its own address: php -S serves or runs it
		}
		if ( is_dir( $__ms_file ) && is_file( rtrim( $__ms_file, '/' ) . '/index.php' ) ) {
			if ( substr( $__ms_path, -1 ) !== '/' ) {
				header( 'Location: ' . $__ms_path . '/', true, 301 );
				return true;
			}
			return false;
		}
	}
	$__ms_target = '/index.php';
}
if ( is_dir( $__ms_root . $__ms_target ) ) {
	if ( substr( $__ms_target, -1 ) !== '/' ) {
		header( 'Location: ' . $__ms_path . '/', true, 301 );
		return true;
	}
	$__ms_target .= 'index.php';
}
$__ms_file = $__ms_root . $__ms_target;
if ( ! is_file( $__ms_file ) ) {
	// A missing file under wp-admin/wp-content/wp-includes: WordPress' 404 page, as index.php gives.
	$__ms_target = '/index.php';
	$__ms_file   = $__ms_root . '/index.php';
}
if ( substr( $__ms_file, -4 ) !== '.php' ) {
	$__ms_types = array(
		'css'   => 'text/css; charset=UTF-8',
		'js'    => 'text/javascript; charset=UTF-8',
		'mjs'   => 'text/javascript; charset=UTF-8',
		'json'  => 'application/json',
		'map'   => 'application/json',
		'svg'   => 'image/svg+xml',
		'png'   => 'image/png',
		'gif'   => 'image/gif',
		'jpg'   => 'image/jpeg',
		'jpeg'  => 'image/jpeg',
		'webp'  => 'image/webp',
		'ico'   => 'image/x-icon',
		'woff'  => 'font/woff',
		'woff2' => 'font/woff2',
		'ttf'   => 'font/ttf',
		'eot'   => 'application/vnd.ms-fontobject',
		'txt'   => 'text/plain; charset=UTF-8',
		'html'  => 'text/html; charset=UTF-8',
	);
	$__ms_ext = strtolower( pathinfo( $__ms_file, PATHINFO_EXTENSION ) );
	header( 'Content-Type: ' . ( $__ms_types[ $__ms_ext ] ?? 'application/octet-stream' ) );
	header( 'Content-Length: ' . filesize( $__ms_file ) );
	header( 'Cache-Control: max-age=3600' );
	if ( 'HEAD' !== $_SERVER['REQUEST_METHOD'] ) {
		readfile( $__ms_file );
	}
	return true;
}
chdir( dirname( $__ms_file ) );
$_SERVER['SCRIPT_NAME']     = $__ms_target;
$_SERVER['PHP_SELF']        = $__ms_target;
$_SERVER['SCRIPT_FILENAME'] = $__ms_file;
unset( $__ms_path, $__ms_m, $__ms_types, $__ms_ext );
require $__ms_file;
