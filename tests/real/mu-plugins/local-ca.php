<?php
/**
 * Plugin Name: wcsync test shop: trust the realwc kit's local CA (must-use)
 * Description: WordPress' HTTP API checks TLS certificates against its own bundle
 * (wp-includes/certificates/ca-bundle.crt), not the system's. wcsync's nginx in the tests has a
 * certificate from the kit's local CA (<DIR>/tls/ca.pem, made by realwc.sh setup), so that
 * WooCommerce can deliver webhooks to it over HTTPS, this adds that CA to every request's
 * 'sslcertificates' bundle when the file exists. Nothing else changes: verification stays on.
 *
 * In production wcsync's nginx has a publicly trusted certificate and none of this is needed.
 */

defined( 'ABSPATH' ) || exit;

/**
 * WordPress' bundle plus the kit's CA, as one PEM file beside the CA (written once, atomically);
 * '' when the kit made no CA.
 */
function wcsync_test_local_ca_bundle() {
	static $bundle = null;
	if ( null !== $bundle ) {
		return $bundle;
	}
	$bundle = '';
	// ABSPATH is <DIR>/sites/<store>/.
	$ca = dirname( ABSPATH, 2 ) . '/tls/ca.pem';
	if ( ! is_readable( $ca ) ) {
		return $bundle;
	}
	$wordpress = ABSPATH . WPINC . '/certificates/ca-bundle.crt';
	$combined  = dirname( $ca ) . '/wordpress-' . md5( $wordpress . filemtime( $ca ) ) . '.pem';
	if ( ! is_readable( $combined ) ) {
		$pem = ( is_readable( $wordpress ) ? file_get_contents( $wordpress ) : '' ) . "\n" . file_get_contents( $ca ); // phpcs:ignore
		$tmp = $combined . '.' . getmypid() . '.tmp';
		if ( false === file_put_contents( $tmp, $pem ) || ! rename( $tmp, $combined ) ) { // phpcs:ignore
			@unlink( $tmp ); // phpcs:ignore
			return $bundle;
		}
	}
	$bundle = $combined;
	return $bundle;
}

add_filter(
	'http_request_args',
	function ( $args ) {
		$bundle = wcsync_test_local_ca_bundle();
		if ( '' !== $bundle ) {
			$args['sslcertificates'] = $bundle;
		}
		return $args;
	},
	10,
	1
);
