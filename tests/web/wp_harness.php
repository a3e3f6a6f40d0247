<?php
/**
 * Runs the wcsync-admin plugin against minimal stand-ins of the WordPress and WooCommerce
 * functions it calls, and prints what it did as JSON for tests/web/test_wordpress_plugin.py
 * to check. Usage: php wp_harness.php <plugin dir>
 */

declare(strict_types=1);

define( 'ABSPATH', '/tmp/wp/' );
define( 'HOUR_IN_SECONDS', 3600 );
define( 'DAY_IN_SECONDS', 86400 );

$GLOBALS['h'] = array(
	'actions'   => array(),
	'filters'   => array(),
	'options'   => array(),
	'transients' => array(),
	'routes'    => array(),
	'requests'  => array(),
	'responses' => array(),
	'localized' => array(),
	'can'       => true,
	'screen'    => null,
	'meta_boxes' => array(),
	'settings_errors' => array(),
	'autoload'  => array(),
	'orders'    => array(),
	'blog'      => 1,
	'sites'     => array(),
	'multisite' => false,
	'n_calls'   => 0,
	'stack'     => array(),
);

/* --- WordPress classes -------------------------------------------------------------------- */

class WP_Error {
	public function __construct( public string $code = '', public string $message = '', public mixed $data = null ) {}
	public function get_error_message(): string { return $this->message; }
	public function get_error_code(): string { return $this->code; }
	public function get_error_data(): mixed { return $this->data; }
}

class WP_REST_Server {
	const READABLE  = 'GET';
	const CREATABLE = 'POST';
}

class WP_REST_Request implements ArrayAccess {
	public array $headers = array();
	public array $params  = array();
	public function get_header( string $name ): ?string { return $this->headers[ strtolower( $name ) ] ?? null; }
	public function get_param( string $name ): mixed { return $this->params[ $name ] ?? null; }
	public function offsetExists( mixed $offset ): bool { return isset( $this->params[ $offset ] ); }
	public function offsetGet( mixed $offset ): mixed { return $this->params[ $offset ] ?? null; }
	public function offsetSet( mixed $offset, mixed $value ): void { $this->params[ $offset ] = $value; }
	public function offsetUnset( mixed $offset ): void { unset( $this->params[ $offset ] ); }
}

class WP_REST_Response {
	public function __construct( public mixed $data = null ) {}
	public function get_data(): mixed { return $this->data; }
	public function set_data( mixed $data ): void { $this->data = $data; }
}

class WP_Post {
	public function __construct( public int $ID ) {}
}

class WC_Order {
	public array $changes = array();
	public ?int $date_modified = null;
	public function __construct( public int $id, public array $meta = array() ) {}
	public function get_changes(): array { return $this->changes; }
	public function set_date_modified( int $time ): void { $this->date_modified = $time; $this->changes['date_modified'] = $time; }
	public function get_id(): int { return $this->id; }
	public function get_meta( string $key ): mixed { return $this->meta[ $key ] ?? ''; }
	public function get_order_number(): string { return 'N' . $this->id; }
	public function get_edit_order_url(): string { return 'https://shop.test/wp-admin/post.php?post=' . $this->id . '&action=edit'; }
}

class Harness_Wpdb {
	public string $options = 'wp_options';
	public function esc_like( string $text ): string { return addcslashes( $text, '_%\\' ); }
	public function prepare( string $query, mixed ...$args ): string { return $query; }
	// The transients whose names start with the prefix asked for, on the current site.
	public function get_col( string $query ): array {
		return array_values( array_filter( array_map( static fn( $k ) => '_transient_' . $k, array_keys( $GLOBALS['h']['transients'] ) ), static fn( $k ) => str_starts_with( $k, '_transient_wcsync_admin_origin_' ) ) );
	}
}
$GLOBALS['wpdb'] = new Harness_Wpdb();

/* --- WordPress functions -------------------------------------------------------------------- */

function add_action( string $hook, callable $callback, int $priority = 10, int $args = 1 ): void {
	$GLOBALS['h']['actions'][ $hook ][] = $callback;
}
function add_filter( string $hook, callable $callback, int $priority = 10, int $args = 1 ): void {
	$GLOBALS['h']['filters'][ $hook ][] = $callback;
}
function do_action( string $hook, mixed ...$args ): void {
	foreach ( $GLOBALS['h']['actions'][ $hook ] ?? array() as $callback ) {
		$callback( ...$args );
	}
}
function apply_filters( string $hook, mixed $value, mixed ...$args ): mixed {
	foreach ( $GLOBALS['h']['filters'][ $hook ] ?? array() as $callback ) {
		$value = $callback( $value, ...$args );
	}
	return $value;
}
function __( string $text, string $domain = '' ): string { return $text; }
function _n( string $single, string $plural, int $number, string $domain = '' ): string {
	++$GLOBALS['h']['n_calls'];
	return 1 === $number ? $single : $plural;
}
function esc_attr_e( string $text, string $domain = '' ): void { echo esc_attr( $text ); }
function load_plugin_textdomain( mixed ...$args ): bool { return true; }
function settings_errors( mixed ...$args ): void {}
function add_option( string $name, mixed $value = '', string $deprecated = '', string|bool $autoload = 'yes' ): bool {
	if ( array_key_exists( $name, $GLOBALS['h']['options'] ) ) {
		return false;
	}
	$GLOBALS['h']['options'][ $name ]  = $value;
	$GLOBALS['h']['autoload'][ $name ] = ( false === $autoload || 'no' === $autoload ) ? 'no' : 'yes';
	return true;
}
function update_option( string $name, mixed $value, string|bool|null $autoload = null ): bool {
	if ( ! array_key_exists( $name, $GLOBALS['h']['options'] ) ) {
		return add_option( $name, $value, '', null === $autoload ? 'yes' : $autoload );
	}
	$GLOBALS['h']['options'][ $name ] = $value;
	if ( null !== $autoload ) {
		$GLOBALS['h']['autoload'][ $name ] = ( false === $autoload || 'no' === $autoload ) ? 'no' : 'yes';
	}
	return true;
}
function delete_option( string $name ): bool {
	unset( $GLOBALS['h']['options'][ $name ], $GLOBALS['h']['autoload'][ $name ] );
	return true;
}
function wp_load_alloptions(): array {
	return array_filter( $GLOBALS['h']['options'], static fn( $k ) => 'no' !== ( $GLOBALS['h']['autoload'][ $k ] ?? 'yes' ), ARRAY_FILTER_USE_KEY );
}
function is_multisite(): bool { return $GLOBALS['h']['multisite']; }
function get_sites( array $args = array() ): array { return array_keys( $GLOBALS['h']['sites'] ); }
// Each site keeps its own options and transients; switching swaps them in.
function switch_to_blog( int $blog ): bool {
	$h = &$GLOBALS['h'];
	$h['sites'][ $h['blog'] ] = array( 'options' => $h['options'], 'autoload' => $h['autoload'], 'transients' => $h['transients'] );
	$h['stack'][] = $h['blog'];
	$h['blog'] = $blog;
	$h['options'] = $h['sites'][ $blog ]['options'];
	$h['autoload'] = $h['sites'][ $blog ]['autoload'];
	$h['transients'] = $h['sites'][ $blog ]['transients'];
	return true;
}
function restore_current_blog(): bool {
	$h = &$GLOBALS['h'];
	$previous = array_pop( $h['stack'] );
	$h['sites'][ $h['blog'] ] = array( 'options' => $h['options'], 'autoload' => $h['autoload'], 'transients' => $h['transients'] );
	$h['blog'] = $previous;
	$h['options'] = $h['sites'][ $previous ]['options'];
	$h['autoload'] = $h['sites'][ $previous ]['autoload'];
	$h['transients'] = $h['sites'][ $previous ]['transients'];
	return true;
}
function esc_html__( string $text, string $domain = '' ): string { return esc_html( $text ); }
function esc_attr__( string $text, string $domain = '' ): string { return esc_attr( $text ); }
function esc_html_e( string $text, string $domain = '' ): void { echo esc_html( $text ); }
function esc_html( string $text ): string { return htmlspecialchars( $text, ENT_QUOTES ); }
function esc_attr( string $text ): string { return htmlspecialchars( $text, ENT_QUOTES ); }
function esc_url( string $url ): string { return htmlspecialchars( $url, ENT_QUOTES ); }
function esc_url_raw( string $url, ?array $protocols = null ): string {
	$scheme = strtolower( (string) parse_url( $url, PHP_URL_SCHEME ) );
	return in_array( $scheme, $protocols ?? array( 'http', 'https' ), true ) ? $url : '';
}
function plugin_dir_path( string $file ): string { return dirname( $file ) . '/'; }
function plugin_dir_url( string $file ): string { return 'https://shop.test/wp-content/plugins/wcsync-admin/'; }
function plugin_basename( string $file ): string { return 'wcsync-admin/wcsync-admin.php'; }
function get_option( string $name, mixed $default = false ): mixed { return $GLOBALS['h']['options'][ $name ] ?? $default; }
function get_transient( string $name ): mixed { return $GLOBALS['h']['transients'][ $name ] ?? false; }
function set_transient( string $name, mixed $value, int $ttl = 0 ): bool { $GLOBALS['h']['transients'][ $name ] = $value; return true; }
function delete_transient( string $name ): bool { unset( $GLOBALS['h']['transients'][ $name ] ); return true; }
function is_admin(): bool { return true; }
function register_setting( string $group, string $name, array $args = array() ): void {}
function add_settings_section( mixed ...$args ): void {}
function add_settings_field( mixed ...$args ): void {}
function add_settings_error( string $setting, string $code, string $message ): void { $GLOBALS['h']['settings_errors'][] = $code; }
function add_submenu_page( mixed ...$args ): string { return ''; }
function register_rest_route( string $namespace, string $route, array $args ): void {
	$GLOBALS['h']['routes'][ $namespace . $route ] = $args;
}
function current_user_can( string $capability ): bool { return $GLOBALS['h']['can'] && 'manage_woocommerce' === $capability; }
function wp_verify_nonce( string $nonce, string $action ): int|false { return 'good-nonce' === $nonce && 'wp_rest' === $action ? 1 : false; }
function wp_create_nonce( string $action ): string { return 'good-nonce'; }
function rest_authorization_required_code(): int { return 401; }
function wp_remote_request( string $url, array $args ): mixed {
	$GLOBALS['h']['requests'][] = array( 'url' => $url, 'args' => $args );
	$path = (string) parse_url( $url, PHP_URL_PATH );
	foreach ( $GLOBALS['h']['responses'] as $prefix => $response ) {
		if ( str_starts_with( $path, $prefix ) ) {
			return 'hang' === $response ? new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out after 1001 milliseconds with 0 bytes received' ) : $response;
		}
	}
	return new WP_Error( 'http_request_failed', 'cURL error 7: Failed to connect' );
}
function wp_remote_retrieve_response_code( mixed $response ): int { return (int) $response['code']; }
function wp_remote_retrieve_body( mixed $response ): string { return (string) $response['body']; }
function wp_remote_retrieve_header( mixed $response, string $header ): string { return (string) ( $response['headers'][ strtolower( $header ) ] ?? '' ); }
function is_wp_error( mixed $thing ): bool { return $thing instanceof WP_Error; }
function wp_json_encode( mixed $data ): string { return (string) json_encode( $data ); }
function home_url( string $path = '' ): string { return 'https://shop.test' . $path; }
function untrailingslashit( string $value ): string { return rtrim( $value, '/\\' ); }
function sanitize_key( string $key ): string { return preg_replace( '/[^a-z0-9_\-]/', '', strtolower( $key ) ); }
function sanitize_text_field( string $text ): string { return trim( strip_tags( $text ) ); }
function wp_unslash( mixed $value ): mixed { return $value; }
function rest_ensure_response( mixed $data ): WP_REST_Response { return new WP_REST_Response( $data ); }
function absint( mixed $value ): int { return abs( (int) $value ); }
function rest_url( string $path = '' ): string { return 'https://shop.test/wp-json/' . $path; }
function admin_url( string $path = '' ): string { return 'https://shop.test/wp-admin/' . $path; }
function wp_enqueue_script( mixed ...$args ): void {}
function wp_enqueue_style( mixed ...$args ): void {}
function wp_localize_script( string $handle, string $name, array $data ): bool {
	$GLOBALS['h']['localized'][ $name ] = $data;
	return true;
}
function get_current_screen(): ?object { return $GLOBALS['h']['screen']; }
function wc_get_page_screen_id( string $for ): string { return $GLOBALS['h']['hpos'] ? 'woocommerce_page_wc-orders' : 'shop_order'; }
function wc_get_order( int $id ): WC_Order { return new WC_Order( $id, $GLOBALS['h']['orders'][ $id ] ?? array() ); }
function add_meta_box( string $id, string $title, callable $callback, string $screen, string $context = '', string $priority = '' ): void {
	$GLOBALS['h']['meta_boxes'][] = array( 'id' => $id, 'screen' => $screen, 'context' => $context, 'title' => $title, 'callback' => $callback );
}
// Renders a screen's boxes the way WordPress' do_meta_boxes() does (wp-admin/includes/template.php):
// the box id goes on the outer postbox, and the callback's output sits inside it.
function do_meta_boxes( string $screen, string $context, mixed $data_object ): int {
	$count = 0;
	foreach ( $GLOBALS['h']['meta_boxes'] as $box ) {
		if ( $box['screen'] !== $screen || $box['context'] !== $context ) {
			continue;
		}
		++$count;
		echo '<div id="' . esc_attr( $box['id'] ) . '" class="postbox " >' . "\n";
		echo '<div class="postbox-header"><h2 class="hndle ui-sortable-handle">' . esc_html( $box['title'] ) . "</h2></div>\n";
		echo '<div class="inside">' . "\n";
		call_user_func( $box['callback'], $data_object, $box );
		echo "</div>\n</div>\n";
	}
	return $count;
}
function number_format_i18n( int|float $number ): string { return number_format( (float) $number ); }
function checked( mixed $a, mixed $b = true, bool $echo = true ): string { return $a === $b ? ' checked="checked"' : ''; }
function http_response( int $code, mixed $body, array $headers = array() ): array { return array( 'code' => $code, 'body' => json_encode( $body ), 'headers' => $headers ); }

/* --- helpers ---------------------------------------------------------------------------------- */

function boot( string $plugin, array $settings, string $token ): void {
	$GLOBALS['h']['actions']    = array();
	$GLOBALS['h']['filters']    = array();
	$GLOBALS['h']['routes']     = array();
	$GLOBALS['h']['transients'] = array();
	$GLOBALS['h']['options']    = array( 'wcsync_admin_settings' => $settings, 'wcsync_admin_token' => $token );
	$GLOBALS['h']['autoload']   = array( 'wcsync_admin_settings' => 'yes', 'wcsync_admin_token' => 'no' );
	require_once $plugin . '/wcsync-admin.php';
	do_action( 'plugins_loaded' );
	do_action( 'rest_api_init' );
}

function request_with( array $headers, array $params = array() ): WP_REST_Request {
	$request          = new WP_REST_Request();
	$request->headers = array_change_key_case( $headers );
	$request->params  = $params;
	return $request;
}

function error_fact( mixed $result ): mixed {
	if ( $result instanceof WP_Error ) {
		return array( 'error' => $result->code, 'status' => $result->data['status'] ?? null, 'message' => $result->message );
	}
	if ( $result instanceof WP_REST_Response ) {
		return array( 'data' => $result->get_data() );
	}
	return $result;
}

// A summary as the plugin saves it, for the settings in force.
function summary_for( array $summary ): array {
	$settings = new Wcsync_Admin_Settings();
	return array_merge( $summary, array( 'for' => md5( $settings->url() . '|' . $settings->store() . '|' . $settings->token() ) ) );
}

function capture( callable $callback ): string {
	ob_start();
	$callback();
	return (string) ob_get_clean();
}

/* --- scenarios ---------------------------------------------------------------------------------- */

$plugin = $argv[1];
$facts  = array();
$token  = 'tok-SECRET-0123456789';

$GLOBALS['h']['hpos'] = true;
boot(
	$plugin,
	array( 'url' => 'http://wcsync.test:8000/', 'store' => 'sub1', 'suppress_emails' => true, 'origin_filter' => true ),
	$token
);

// Routes and their permission checks.
$facts['routes'] = array();
foreach ( $GLOBALS['h']['routes'] as $route => $args ) {
	$permission = $args['permission_callback'] ?? null;
	$GLOBALS['h']['can'] = false;
	$no_cap = error_fact( $permission ? $permission( request_with( array( 'X-WP-Nonce' => 'good-nonce' ) ) ) : null );
	$GLOBALS['h']['can'] = true;
	$no_nonce  = error_fact( $permission ? $permission( request_with( array() ) ) : null );
	$bad_nonce = error_fact( $permission ? $permission( request_with( array( 'X-WP-Nonce' => 'forged' ) ) ) : null );
	$allowed   = $permission ? $permission( request_with( array( 'X-WP-Nonce' => 'good-nonce' ) ) ) : null;
	$facts['routes'][ $route ] = array(
		'methods'   => $args['methods'],
		'no_cap'    => $no_cap,
		'no_nonce'  => $no_nonce,
		'bad_nonce' => $bad_nonce,
		'allowed'   => $allowed,
	);
}
$routes = $GLOBALS['h']['routes'];

// Pending count for a sub-store: its own orders both ways, not the other stores'.
$failed_orders = array(
	'store' => 'sub1',
	'total' => 3,
	'items' => array(
		array( 'order_id' => 42, 'links' => array( array( 'origin' => array( 'store' => 'sub1', 'order_id' => 42 ), 'target' => array( 'store' => 'main', 'order_id' => null ), 'attempts' => 5, 'last_error' => 'Unknown SKU X on main', 'updated_at' => '2026-11-30T05:00:00Z' ) ) ),
		array( 'order_id' => 44, 'links' => array() ),
		array( 'order_id' => 45, 'links' => array() ),
	),
);
$GLOBALS['h']['responses'] = array(
	'/api/stores/sub1/failed-orders' => http_response( 200, $failed_orders ),
	'/api/stores/sub1' => http_response( 200, array( 'name' => 'sub1', 'role' => 'sub' ) ),
	'/api/pending'     => http_response( 200, array( 'orders' => 6, 'copies' => 7, 'total' => 6, 'main_to_sub' => array( 'sub1' => 2, 'sub2' => 4 ), 'sub_to_main' => array( 'sub1' => 1 ), 'failed' => 5 ) ),
	'/api/sync'        => http_response( 202, array( 'run_id' => 9, 'status' => 'queued', 'new' => true ) ),
	'/api/runs/9'      => http_response( 200, array( 'id' => 9, 'status' => 'running', 'progress' => array( 'done' => 1, 'total' => 3 ), 'counts' => array() ) ),
	'/api/runs/10'     => http_response( 200, array( 'id' => 10, 'status' => 'succeeded', 'progress' => array( 'done' => 3, 'total' => 3 ), 'counts' => array( 'created' => 2, 'updated' => 1, 'skipped' => 0, 'failed' => 0 ) ) ),
	'/api/orders/sub1/42/origin' => http_response( 200, array( 'store' => 'sub1', 'order_id' => 42, 'origin' => array( 'store' => 'main', 'order_id' => 7 ), 'admin_url' => 'http://main.test/wp-admin/post.php?post=7&action=edit' ) ),
	'/api/orders/sub1/42' => http_response( 200, array( 'store' => 'sub1', 'order_id' => 42, 'links' => array(), 'events' => array() ) ),
);
$GLOBALS['h']['requests'] = array();
$facts['pending_sub'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$facts['pending_requests'] = array_map(
	static fn( $r ) => array( 'url' => $r['url'], 'method' => $r['args']['method'], 'timeout' => $r['args']['timeout'], 'authorization' => $r['args']['headers']['Authorization'] ?? null ),
	$GLOBALS['h']['requests']
);
$facts['summary_saved'] = $GLOBALS['h']['transients']['wcsync_admin_pending'] ?? null;
$facts['failed_list'] = error_fact( $routes['wcsync-admin/v1/failed']['callback']( request_with( array() ) ) );

$GLOBALS['h']['requests'] = array();
$facts['sync_sub'] = error_fact( $routes['wcsync-admin/v1/sync']['callback']( request_with( array() ) ) );
$facts['sync_sub_body'] = json_decode( (string) ( end( $GLOBALS['h']['requests'] )['args']['body'] ?? 'null' ), true );
$facts['run_running'] = error_fact( $routes['wcsync-admin/v1/runs/(?P<id>\d+)']['callback']( request_with( array(), array( 'id' => '9' ) ) ) )['data'];
$facts['run_finished'] = error_fact( $routes['wcsync-admin/v1/runs/(?P<id>\d+)']['callback']( request_with( array(), array( 'id' => '10' ) ) ) )['data'];

$GLOBALS['h']['requests'] = array();
$facts['order'] = error_fact( $routes['wcsync-admin/v1/orders/(?P<id>\d+)']['callback']( request_with( array(), array( 'id' => '42' ) ) ) );
$routes['wcsync-admin/v1/orders/(?P<id>\d+)/sync']['callback']( request_with( array(), array( 'id' => '42' ) ) );
$facts['order_requests'] = array_map( static fn( $r ) => $r['args']['method'] . ' ' . $r['url'], $GLOBALS['h']['requests'] );
// A replica: the order view names its origin, with the origin order's admin screen.
$GLOBALS['h']['orders'][42] = array( '_wcsync_origin' => 'main:7' );
$GLOBALS['h']['requests'] = array();
$facts['replica_order'] = error_fact( $routes['wcsync-admin/v1/orders/(?P<id>\d+)']['callback']( request_with( array(), array( 'id' => '42' ) ) ) );
$facts['replica_requests'] = array_map( static fn( $r ) => $r['args']['method'] . ' ' . $r['url'], $GLOBALS['h']['requests'] );
unset( $GLOBALS['h']['orders'][42] );

// The main store syncs everything and counts every pending order, once (its copies beside).
$GLOBALS['h']['transients'] = array();
$GLOBALS['h']['options']['wcsync_admin_settings']['store'] = 'main';
$GLOBALS['h']['responses'] = array(
	'/api/stores/main/failed-orders' => http_response( 200, array( 'store' => 'main', 'total' => 0, 'items' => array() ) ),
	'/api/stores/main' => http_response( 200, array( 'name' => 'main', 'role' => 'main' ) ),
) + $GLOBALS['h']['responses'];
$facts['pending_main'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$GLOBALS['h']['requests'] = array();
$routes['wcsync-admin/v1/sync']['callback']( request_with( array() ) );
$facts['sync_main_body'] = json_decode( (string) ( end( $GLOBALS['h']['requests'] )['args']['body'] ?? 'null' ), true );

// Counted sentences.
$facts['texts'] = array(
	'one_of_two'  => Wcsync_Admin_Text::pending( 1, 2 ),
	'one'         => Wcsync_Admin_Text::pending( 1, 1 ),
	'none'        => Wcsync_Admin_Text::pending( 0, 0 ),
	'three_of_5'  => Wcsync_Admin_Text::pending( 3, 5 ),
	'failed_one'  => Wcsync_Admin_Text::failed( 1 ),
	'failed_many' => Wcsync_Admin_Text::failed( 4 ),
	'bubble_one'  => Wcsync_Admin_Text::bubble( 1 ),
);
$before = $GLOBALS['h']['n_calls'];
Wcsync_Admin_Text::pending( 2, 3 );
$facts['n_calls_for_orders_and_copies'] = $GLOBALS['h']['n_calls'] - $before;

// wcsync refusing the token, wcsync down (port closed) and wcsync hung (no answer in time).
$GLOBALS['h']['transients'] = array();
$GLOBALS['h']['responses'] = array( '/api/' => http_response( 401, array( 'error' => array( 'code' => 'not_authenticated', 'message' => 'Missing or wrong admin token' ) ) ) );
$facts['token_refused'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$facts['token_refused_data'] = $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) )->data;
$GLOBALS['h']['responses'] = array();
$facts['unreachable'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$GLOBALS['h']['responses'] = array( '/api/' => 'hang' );
$GLOBALS['h']['requests'] = array();
$facts['hung'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$facts['hung_requests'] = array_map( static fn( $r ) => array( 'url' => $r['url'], 'timeout' => $r['args']['timeout'] ), $GLOBALS['h']['requests'] );
$facts['error_saved'] = $GLOBALS['h']['transients']['wcsync_admin_pending'] ?? null;

// wcsync pausing checks of a wrong token (429 with Retry-After): said in an owner's words, and not
// asked again before the pause ends.
$GLOBALS['h']['transients'] = array();
$GLOBALS['h']['responses'] = array( '/api/' => http_response( 429, array( 'error' => array( 'code' => 'too_many_failures', 'message' => "This store's wcsync token is wrong" ) ), array( 'retry-after' => '120' ) ) );
$facts['token_paused'] = error_fact( $routes['wcsync-admin/v1/pending']['callback']( request_with( array() ) ) );
$paused_client = new Wcsync_Admin_Client( new Wcsync_Admin_Settings() );
$facts['token_paused_stale'] = array();
foreach ( array( 0, 90, 121 ) as $ago ) {
	$GLOBALS['h']['transients']['wcsync_admin_pending']['checked_at'] = time() - $ago;
	$facts['token_paused_stale'][] = $paused_client->summary_is_stale( true );
}
$GLOBALS['h']['responses'] = array();

// Pages never call wcsync: the bubble, the notice and the marks come from the saved summary.
$GLOBALS['h']['requests'] = array();
$client = new Wcsync_Admin_Client( new Wcsync_Admin_Settings() );
$facts['bubble_count_down'] = $client->cached_pending_count();
$GLOBALS['h']['transients'] = array();
$facts['bubble_count_unknown'] = $client->cached_pending_count();
$facts['page_calls'] = count( $GLOBALS['h']['requests'] );
$GLOBALS['h']['options']['wcsync_admin_settings']['store'] = 'sub1';

// Scripts: on the HPOS orders list, with a nonce and without the token.
$orders = new Wcsync_Admin_Orders( new Wcsync_Admin_Settings(), $client );
$_GET   = array();
$GLOBALS['h']['screen'] = (object) array( 'id' => 'woocommerce_page_wc-orders' );
$orders->enqueue( 'woocommerce_page_wc-orders' );
$facts['localized'] = $GLOBALS['h']['localized']['wcsyncAdmin'] ?? null;
$facts['localized_json'] = json_encode( $GLOBALS['h']['localized'] );
$facts['notice_hpos_list'] = capture( array( $orders, 'orders_notice' ) );
$_GET = array( 'action' => 'edit', 'id' => '42' );
$facts['notice_hpos_edit'] = capture( array( $orders, 'orders_notice' ) );
$GLOBALS['h']['screen'] = (object) array( 'id' => 'edit-shop_order' );
$_GET = array();
$facts['notice_classic_list'] = capture( array( $orders, 'orders_notice' ) );
$GLOBALS['h']['transients']['wcsync_admin_pending'] = summary_for( $facts['summary_saved'] );
$facts['notice_failed'] = capture( array( $orders, 'orders_notice' ) );
$GLOBALS['h']['transients']['wcsync_admin_pending'] = summary_for( array( 'state' => 'ok', 'pending' => 1, 'copies' => 2, 'failed' => 0, 'failed_ids' => array(), 'checked_at' => time() ) );
$facts['notice_ok'] = capture( array( $orders, 'orders_notice' ) );
// A summary asked with other settings (a refresh under way while they were saved) is not shown.
$GLOBALS['h']['transients']['wcsync_admin_pending']['for'] = 'other settings';
$facts['notice_other_settings'] = capture( array( $orders, 'orders_notice' ) );
$GLOBALS['h']['transients']['wcsync_admin_pending'] = summary_for( $facts['error_saved'] );
$facts['notice_error'] = capture( array( $orders, 'orders_notice' ) );
$facts['notice_error_calls'] = count( $GLOBALS['h']['requests'] );
// The Orders list's wcsync column, on both lists.
$GLOBALS['h']['transients']['wcsync_admin_pending'] = summary_for( $facts['summary_saved'] );
$facts['columns_posts'] = apply_filters( 'manage_edit-shop_order_columns', array( 'cb' => '', 'order_number' => 'Order' ) );
$facts['columns_hpos']  = apply_filters( 'manage_woocommerce_page_wc-orders_columns', array( 'cb' => '', 'order_number' => 'Order' ) );
$facts['mark_failed_post'] = capture( static fn() => do_action( 'manage_shop_order_posts_custom_column', 'wcsync_admin', 44 ) );
$facts['mark_ok_post']     = capture( static fn() => do_action( 'manage_shop_order_posts_custom_column', 'wcsync_admin', 43 ) );
$facts['mark_failed_hpos'] = capture( static fn() => do_action( 'manage_woocommerce_page_wc-orders_custom_column', 'wcsync_admin', new WC_Order( 45 ) ) );
$facts['mark_other_column'] = capture( static fn() => do_action( 'manage_shop_order_posts_custom_column', 'order_total', 44 ) );
$GLOBALS['h']['can'] = false;
$facts['notice_without_cap'] = capture( array( $orders, 'orders_notice' ) );
$GLOBALS['h']['localized'] = array();
$orders->enqueue( 'edit.php' );
$facts['localized_without_cap'] = $GLOBALS['h']['localized'];
$GLOBALS['h']['can'] = true;

// Meta box on both storages; the origin meta is escaped.
$GLOBALS['h']['hpos'] = true;
$orders->add_meta_box();
$GLOBALS['h']['hpos'] = false;
$orders->add_meta_box();
$facts['meta_boxes'] = array_map( static fn( $box ) => array_intersect_key( $box, array_flip( array( 'id', 'screen', 'context' ) ) ), $GLOBALS['h']['meta_boxes'] );
// As the order screens print them: HPOS passes the order, the posts screen the post.
$facts['meta_box_hpos'] = capture( static fn() => do_meta_boxes( 'woocommerce_page_wc-orders', 'side', new WC_Order( 42, array( '_wcsync_origin' => 'main:7"><script>alert(1)</script>' ) ) ) );
$facts['meta_box_posts'] = capture( static fn() => do_meta_boxes( 'shop_order', 'side', new WP_Post( 43 ) ) );
// Once wcsync has told where the origin is, the note is a link at once.
$GLOBALS['h']['transients'][ 'wcsync_admin_origin_' . md5( 'main:7' ) ] = 'http://main.test/wp-admin/post.php?post=7&action=edit';
$facts['meta_box_origin_link'] = capture( static fn() => do_meta_boxes( 'woocommerce_page_wc-orders', 'side', new WC_Order( 44, array( '_wcsync_origin' => 'main:7' ) ) ) );

// Menu bubble on the HPOS Orders item.
$GLOBALS['submenu'] = array( 'woocommerce' => array( array( 'Home', 'manage_woocommerce', 'wc-admin' ), array( 'Orders', 'edit_shop_orders', 'wc-orders' ) ) );
$GLOBALS['h']['transients'] = array( 'wcsync_admin_pending' => summary_for( array( 'state' => 'ok', 'pending' => 12, 'copies' => 12, 'failed' => 0, 'failed_ids' => array(), 'checked_at' => time() ) ) );
$GLOBALS['h']['requests'] = array();
$orders->menu_bubble();
$facts['menu'] = array_map( static fn( $item ) => $item[0], $GLOBALS['submenu']['woocommerce'] );
$GLOBALS['submenu'] = array( 'woocommerce' => array( array( 'Orders', 'edit_shop_orders', 'edit.php?post_type=shop_order' ) ) );
$GLOBALS['h']['transients'] = array();
$orders->menu_bubble();
$facts['menu_unknown'] = $GLOBALS['submenu']['woocommerce'][0][0];
$facts['menu_calls'] = count( $GLOBALS['h']['requests'] );
// The script is on a page whose summary is stale (to refresh it), not on one whose is fresh.
$GLOBALS['h']['screen'] = (object) array( 'id' => 'dashboard' );
$GLOBALS['h']['localized'] = array();
$orders->enqueue( 'index.php' );
$facts['dashboard_stale_script'] = $GLOBALS['h']['localized']['wcsyncAdmin']['refresh'] ?? null;
$GLOBALS['h']['transients'] = array( 'wcsync_admin_pending' => summary_for( array( 'state' => 'ok', 'pending' => 1, 'copies' => 1, 'failed' => 0, 'failed_ids' => array(), 'checked_at' => time() ) ) );
$GLOBALS['h']['localized'] = array();
$orders->enqueue( 'index.php' );
$facts['dashboard_fresh_script'] = isset( $GLOBALS['h']['localized']['wcsyncAdmin'] );

// Optional WooCommerce behaviours.
$facts['email_filters'] = array_keys( array_filter( $GLOBALS['h']['filters'], static fn( $k ) => str_starts_with( (string) $k, 'woocommerce_email_' ), ARRAY_FILTER_USE_KEY ) );
$replica = new WC_Order( 5, array( '_wcsync_origin' => 'main:7' ) );
$own     = new WC_Order( 6 );
$facts['email_enabled_replica']   = apply_filters( 'woocommerce_email_enabled_customer_processing_order', true, $replica );
$facts['email_enabled_own']       = apply_filters( 'woocommerce_email_enabled_customer_processing_order', true, $own );
$facts['email_recipient_replica'] = apply_filters( 'woocommerce_email_recipient_customer_completed_order', 'a@example.com', $replica );
$facts['email_recipient_own']     = apply_filters( 'woocommerce_email_recipient_customer_completed_order', 'a@example.com', $own );
$facts['admin_email_untouched']   = apply_filters( 'woocommerce_email_enabled_new_order', true, $replica );
$query = array( 'post_type' => 'shop_order', 'meta_query' => array( array( 'key' => 'x', 'value' => 'y' ) ) );
$facts['origin_query']       = apply_filters( 'woocommerce_rest_orders_prepare_object_query', $query, request_with( array(), array( 'wcsync_origin' => 'main:42' ) ) );
$facts['origin_query_bad']   = apply_filters( 'woocommerce_rest_orders_prepare_object_query', array(), request_with( array(), array( 'wcsync_origin' => "main:42' OR 1=1" ) ) );
$facts['origin_query_none']  = apply_filters( 'woocommerce_rest_orders_prepare_object_query', array( 'a' => 1 ), request_with( array() ) );
$facts['rest_index']         = apply_filters( 'rest_index', new WP_REST_Response( array( 'name' => 'shop' ) ) )->get_data();

// On the posts storage every save of an order that exists moves its date; a new order, and a
// save that already moves it, are left alone.
$saved  = new WC_Order( 8 );
$fresh  = new WC_Order( 0 );
$moving = new WC_Order( 9 );
$moving->changes = array( 'date_modified' => 1 );
foreach ( array( $saved, $fresh, $moving ) as $order ) {
	do_action( 'woocommerce_before_order_object_save', $order, null );
}
$facts['marks_changes'] = array(
	'saved'   => null !== $saved->date_modified && abs( $saved->date_modified - time() ) < 5,
	'new'     => $fresh->date_modified,
	'already' => $moving->changes['date_modified'],
);

// wcsync's private line meta stays out of the order items box.
$facts['hidden_itemmeta'] = apply_filters( 'woocommerce_hidden_order_itemmeta', array( '_qty', '_tax_class' ) );
$facts['formatted_meta'] = array_keys( apply_filters( 'woocommerce_order_item_get_formatted_meta_data', array( 1 => (object) array( 'key' => 'Size' ), 2 => (object) array( 'key' => '_wcsync_origin_item' ), 3 => (object) array( 'key' => '_wcsync_future' ) ) ) );

// Settings sanitizing: a blank token keeps the saved one.
$settings = new Wcsync_Admin_Settings();
$facts['token_blank_keeps'] = $settings->sanitize_token( '' );
$facts['token_new']         = $settings->sanitize_token( ' new-token ' );
$facts['sanitized']         = $settings->sanitize( array( 'url' => 'javascript:alert(1)', 'store' => 'Sub-1', 'suppress_emails' => '1' ) );
$facts['settings_errors']   = $GLOBALS['h']['settings_errors'];

// The token is saved with autoload off, also when options.php posts it with the form.
delete_option( 'wcsync_admin_token' );
$_POST = array( 'wcsync_admin_token' => ' wcst_posted ' );
$settings->sanitize( array( 'url' => 'http://wcsync.test', 'store' => 'sub1' ) );
$facts['token_posted'] = array( get_option( 'wcsync_admin_token' ), $GLOBALS['h']['autoload']['wcsync_admin_token'] ?? null );
// The same token posted again, on a site where 0.1.0 had autoloaded it.
$GLOBALS['h']['autoload']['wcsync_admin_token'] = 'yes';
$settings->sanitize( array( 'url' => 'http://wcsync.test', 'store' => 'sub1' ) );
$facts['token_reposted_autoload'] = $GLOBALS['h']['autoload']['wcsync_admin_token'];
$_POST = array();
// Upgrading from 0.1.0: the autoloaded token is saved again with autoload off, once.
$GLOBALS['h']['autoload']['wcsync_admin_token'] = 'yes';
unset( $GLOBALS['h']['options']['wcsync_admin_version'] );
$settings->maybe_upgrade();
$facts['upgraded'] = array( get_option( 'wcsync_admin_token' ), $GLOBALS['h']['autoload']['wcsync_admin_token'], get_option( 'wcsync_admin_version' ) );

// The optional behaviours stay off unless turned on.
$GLOBALS['h']['filters'] = array();
$GLOBALS['h']['options']['wcsync_admin_settings'] = array( 'url' => 'http://wcsync.test', 'store' => 'sub1' );
( new Wcsync_Admin_WooCommerce( new Wcsync_Admin_Settings() ) )->register();
$facts['filters_by_default'] = array_keys( $GLOBALS['h']['filters'] );

// Uninstall on a multisite network: every site forgets the plugin, and other options stay.
$GLOBALS['h']['multisite'] = true;
$site = static fn( string $name ) => array(
	'options'    => array( 'wcsync_admin_settings' => array( 'store' => $name ), 'wcsync_admin_token' => 'wcst_' . $name, 'wcsync_admin_version' => '0.2.0', 'blogname' => $name ),
	'autoload'   => array(),
	'transients' => array( 'wcsync_admin_pending' => array(), 'wcsync_admin_role' => 'sub', 'wcsync_admin_origin_abc' => 'http://x', 'other' => 1 ),
);
$GLOBALS['h']['sites'] = array( 1 => $site( 'main' ), 2 => $site( 'sub1' ), 3 => $site( 'sub2' ) );
$GLOBALS['h']['blog'] = 1;
$GLOBALS['h']['options'] = $GLOBALS['h']['sites'][1]['options'];
$GLOBALS['h']['transients'] = $GLOBALS['h']['sites'][1]['transients'];
define( 'WP_UNINSTALL_PLUGIN', 'wcsync-admin/wcsync-admin.php' );
require $plugin . '/uninstall.php';
$GLOBALS['h']['sites'][1] = array( 'options' => $GLOBALS['h']['options'], 'autoload' => array(), 'transients' => $GLOBALS['h']['transients'] );
$facts['uninstalled_sites'] = array_map( static fn( $s ) => array( 'options' => array_keys( $s['options'] ), 'transients' => array_keys( $s['transients'] ) ), $GLOBALS['h']['sites'] );

echo json_encode( $facts, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES );
