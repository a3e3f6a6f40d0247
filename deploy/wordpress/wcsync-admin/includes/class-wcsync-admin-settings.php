<?php
/**
 * The settings page (WooCommerce > wcsync) and access to the stored settings.
 *
 * The token is kept in its own option, never autoloaded and never printed: the settings
 * page shows only whether one is saved. Defining WCSYNC_ADMIN_TOKEN in wp-config.php keeps
 * it out of the database altogether.
 *
 * @package Wcsync_Admin
 */

defined( 'ABSPATH' ) || exit;

/**
 * Settings of the wcsync Admin plugin.
 */
class Wcsync_Admin_Settings {

	const GROUP        = 'wcsync_admin';
	const OPTION       = 'wcsync_admin_settings';
	const TOKEN_OPTION = 'wcsync_admin_token';
	const PAGE         = 'wcsync-admin';
	const CAPABILITY   = 'manage_woocommerce';

	/**
	 * Hook the settings page into WordPress.
	 */
	public function register(): void {
		add_action( 'admin_init', array( $this, 'register_settings' ) );
		add_action( 'admin_menu', array( $this, 'add_page' ), 60 );
		// options.php asks for manage_options unless told otherwise; shop managers run this page.
		add_filter( 'option_page_capability_' . self::GROUP, array( $this, 'capability' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( WCSYNC_ADMIN_FILE ), array( $this, 'action_links' ) );
	}

	/**
	 * The capability every part of the plugin asks for.
	 */
	public function capability(): string {
		return self::CAPABILITY;
	}

	/**
	 * Defaults of the non-secret settings.
	 *
	 * @return array<string, mixed>
	 */
	public static function defaults(): array {
		return array(
			'url'             => '',
			'store'           => '',
			'suppress_emails' => false,
			'origin_filter'   => false,
		);
	}

	/**
	 * The non-secret settings, with defaults filled in.
	 *
	 * @return array<string, mixed>
	 */
	public function all(): array {
		$saved = get_option( self::OPTION, array() );
		return array_merge( self::defaults(), is_array( $saved ) ? $saved : array() );
	}

	/**
	 * The wcsync base URL, without a trailing slash.
	 */
	public function url(): string {
		return untrailingslashit( (string) $this->all()['url'] );
	}

	/**
	 * This site's store name in wcsync.
	 */
	public function store(): string {
		return (string) $this->all()['store'];
	}

	/**
	 * Whether an optional behaviour is on.
	 *
	 * @param string $name suppress_emails or origin_filter.
	 */
	public function enabled( string $name ): bool {
		return ! empty( $this->all()[ $name ] );
	}

	/**
	 * The admin token: server-side only; never localized into a script or printed.
	 */
	public function token(): string {
		if ( defined( 'WCSYNC_ADMIN_TOKEN' ) && is_string( WCSYNC_ADMIN_TOKEN ) && '' !== WCSYNC_ADMIN_TOKEN ) {
			return WCSYNC_ADMIN_TOKEN;
		}
		return (string) get_option( self::TOKEN_OPTION, '' );
	}

	/**
	 * Whether URL, token and store name are all set.
	 */
	public function is_configured(): bool {
		return '' !== $this->url() && '' !== $this->token() && '' !== $this->store();
	}

	/**
	 * Register the options and their fields with the Settings API.
	 */
	public function register_settings(): void {
		register_setting(
			self::GROUP,
			self::OPTION,
			array(
				'type'              => 'object',
				'sanitize_callback' => array( $this, 'sanitize' ),
				'default'           => self::defaults(),
				'show_in_rest'      => false,
			)
		);
		register_setting(
			self::GROUP,
			self::TOKEN_OPTION,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( $this, 'sanitize_token' ),
				'default'           => '',
				'show_in_rest'      => false,
			)
		);

		add_settings_section( 'wcsync_admin_connection', __( 'Connection', 'wcsync-admin' ), array( $this, 'connection_intro' ), self::PAGE );
		add_settings_field( 'wcsync_admin_url', __( 'wcsync URL', 'wcsync-admin' ), array( $this, 'field_url' ), self::PAGE, 'wcsync_admin_connection', array( 'label_for' => 'wcsync_admin_url' ) );
		add_settings_field( 'wcsync_admin_token', __( 'Admin token', 'wcsync-admin' ), array( $this, 'field_token' ), self::PAGE, 'wcsync_admin_connection', array( 'label_for' => 'wcsync_admin_token' ) );
		add_settings_field( 'wcsync_admin_store', __( 'This store in wcsync', 'wcsync-admin' ), array( $this, 'field_store' ), self::PAGE, 'wcsync_admin_connection', array( 'label_for' => 'wcsync_admin_store' ) );

		add_settings_section( 'wcsync_admin_options', __( 'Optional behaviour', 'wcsync-admin' ), '__return_false', self::PAGE );
		add_settings_field( 'wcsync_admin_suppress_emails', __( 'Customer emails', 'wcsync-admin' ), array( $this, 'field_suppress_emails' ), self::PAGE, 'wcsync_admin_options' );
		add_settings_field( 'wcsync_admin_origin_filter', __( 'Replica lookup', 'wcsync-admin' ), array( $this, 'field_origin_filter' ), self::PAGE, 'wcsync_admin_options' );
	}

	/**
	 * Sanitize the non-secret settings.
	 *
	 * @param mixed $input The submitted values.
	 * @return array<string, mixed>
	 */
	public function sanitize( $input ): array {
		// options.php has already unslashed the submitted values.
		$input = is_array( $input ) ? $input : array();
		$clean = self::defaults();

		$url = isset( $input['url'] ) ? esc_url_raw( trim( (string) $input['url'] ), array( 'http', 'https' ) ) : '';
		if ( '' === $url && ! empty( $input['url'] ) ) {
			add_settings_error( self::OPTION, 'wcsync_admin_url', __( 'The wcsync URL must start with http:// or https://.', 'wcsync-admin' ) );
		}
		$clean['url'] = untrailingslashit( $url );

		$store = isset( $input['store'] ) ? sanitize_key( (string) $input['store'] ) : '';
		if ( '' !== $store && ! preg_match( '/^[a-z0-9][a-z0-9_-]{0,63}$/', $store ) ) {
			add_settings_error( self::OPTION, 'wcsync_admin_store', __( 'The store name is the slug given to this store in wcsync.', 'wcsync-admin' ) );
			$store = '';
		}
		$clean['store'] = $store;

		$clean['suppress_emails'] = ! empty( $input['suppress_emails'] );
		$clean['origin_filter']   = ! empty( $input['origin_filter'] );

		delete_transient( Wcsync_Admin_Client::PENDING_TRANSIENT );
		delete_transient( Wcsync_Admin_Client::ROLE_TRANSIENT );
		return $clean;
	}

	/**
	 * Keep the saved token when the field is left blank; a new value replaces it.
	 *
	 * @param mixed $input The submitted token.
	 */
	public function sanitize_token( $input ): string {
		$token = is_string( $input ) ? trim( sanitize_text_field( $input ) ) : '';
		if ( '' === $token ) {
			return (string) get_option( self::TOKEN_OPTION, '' );
		}
		delete_transient( Wcsync_Admin_Client::PENDING_TRANSIENT );
		return $token;
	}

	/**
	 * Add WooCommerce > wcsync.
	 */
	public function add_page(): void {
		add_submenu_page(
			'woocommerce',
			__( 'wcsync', 'wcsync-admin' ),
			__( 'wcsync', 'wcsync-admin' ),
			self::CAPABILITY,
			self::PAGE,
			array( $this, 'render_page' )
		);
	}

	/**
	 * A Settings link on the Plugins screen.
	 *
	 * @param array<int|string, string> $links Existing links.
	 * @return array<int|string, string>
	 */
	public function action_links( array $links ): array {
		$url = admin_url( 'admin.php?page=' . self::PAGE );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'wcsync-admin' ) . '</a>' );
		return $links;
	}

	/**
	 * The settings page.
	 */
	public function render_page(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to change the wcsync settings.', 'wcsync-admin' ) );
		}
		?>
		<div class="wrap wcsync-admin-settings">
			<h1><?php echo esc_html( get_admin_page_title() ); ?></h1>
			<?php settings_errors( self::OPTION ); ?>
			<form action="<?php echo esc_url( admin_url( 'options.php' ) ); ?>" method="post">
				<?php
				settings_fields( self::GROUP );
				do_settings_sections( self::PAGE );
				submit_button();
				?>
			</form>
			<?php if ( $this->is_configured() ) : ?>
				<h2><?php esc_html_e( 'Connection check', 'wcsync-admin' ); ?></h2>
				<p>
					<button type="button" class="button" id="wcsync-admin-check"><?php esc_html_e( 'Check the connection', 'wcsync-admin' ); ?></button>
					<span id="wcsync-admin-check-result" role="status" aria-live="polite"></span>
				</p>
			<?php endif; ?>
		</div>
		<?php
	}

	/**
	 * Intro of the connection section.
	 */
	public function connection_intro(): void {
		echo '<p>' . esc_html__( 'Where wcsync runs and how this site is named in it. The browser never sees the token: this site calls wcsync on its own.', 'wcsync-admin' ) . '</p>';
	}

	/**
	 * The URL field.
	 */
	public function field_url(): void {
		printf(
			'<input type="url" class="regular-text code" id="wcsync_admin_url" name="%1$s[url]" value="%2$s" placeholder="https://wcsync.example.com" />',
			esc_attr( self::OPTION ),
			esc_attr( (string) $this->all()['url'] )
		);
	}

	/**
	 * The token field: always empty; says whether a token is saved.
	 */
	public function field_token(): void {
		if ( defined( 'WCSYNC_ADMIN_TOKEN' ) && WCSYNC_ADMIN_TOKEN ) {
			echo '<p>' . esc_html__( 'Set by WCSYNC_ADMIN_TOKEN in wp-config.php.', 'wcsync-admin' ) . '</p>';
			return;
		}
		$saved = '' !== (string) get_option( self::TOKEN_OPTION, '' );
		printf(
			'<input type="password" class="regular-text" id="wcsync_admin_token" name="%1$s" value="" autocomplete="new-password" placeholder="%2$s" aria-describedby="wcsync_admin_token_help" />',
			esc_attr( self::TOKEN_OPTION ),
			esc_attr( $saved ? __( 'Saved; leave blank to keep it', 'wcsync-admin' ) : '' )
		);
		echo '<p class="description" id="wcsync_admin_token_help">' . esc_html__( 'wcsync\'s WCSYNC_ADMIN_TOKEN. Stored on this server only.', 'wcsync-admin' ) . '</p>';
	}

	/**
	 * The store name field.
	 */
	public function field_store(): void {
		printf(
			'<input type="text" class="regular-text code" id="wcsync_admin_store" name="%1$s[store]" value="%2$s" pattern="[a-z0-9][a-z0-9_\-]{0,63}" aria-describedby="wcsync_admin_store_help" />',
			esc_attr( self::OPTION ),
			esc_attr( $this->store() )
		);
		echo '<p class="description" id="wcsync_admin_store_help">' . esc_html__( 'The name this store was registered under in wcsync, e.g. main or sub1.', 'wcsync-admin' ) . '</p>';
	}

	/**
	 * The email suppression checkbox.
	 */
	public function field_suppress_emails(): void {
		printf(
			'<label><input type="checkbox" name="%1$s[suppress_emails]" value="1" %2$s /> %3$s</label>',
			esc_attr( self::OPTION ),
			checked( $this->enabled( 'suppress_emails' ), true, false ),
			esc_html__( 'Do not email customers about orders that wcsync copied here (they carry _wcsync_origin); the store where they ordered already did.', 'wcsync-admin' )
		);
	}

	/**
	 * The origin filter checkbox.
	 */
	public function field_origin_filter(): void {
		printf(
			'<label><input type="checkbox" name="%1$s[origin_filter]" value="1" %2$s /> %3$s</label>',
			esc_attr( self::OPTION ),
			checked( $this->enabled( 'origin_filter' ), true, false ),
			esc_html__( 'Let wcsync find a copied order in one request: accept wcsync_origin=<store>:<id> on /wc/v3/orders.', 'wcsync-admin' )
		);
	}
}
