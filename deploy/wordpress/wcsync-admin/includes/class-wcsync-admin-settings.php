<?php
/**
 * The settings page (WooCommerce > wcsync) and access to the stored settings.
 *
 * The token (a store token, wcst_…) is kept in its own option, never autoloaded (it is saved
 * here with autoload off, not by options.php, which would autoload a new option) and never
 * printed: the settings page shows only whether one is saved. Defining WCSYNC_ADMIN_TOKEN in
 * wp-config.php keeps it out of the database altogether.
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
	// The plugin version whose upgrade steps have run on this site.
	const VERSION_OPTION = 'wcsync_admin_version';

	/**
	 * Hook the settings page into WordPress.
	 */
	public function register(): void {
		add_action( 'admin_init', array( $this, 'register_settings' ) );
		add_action( 'admin_init', array( $this, 'maybe_upgrade' ) );
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
	 * The store token (or WCSYNC_ADMIN_TOKEN): server-side only; never localized into a script or printed.
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

		add_settings_section( 'wcsync_admin_connection', __( 'Connection', 'wcsync-admin' ), array( $this, 'connection_intro' ), self::PAGE );
		add_settings_field( 'wcsync_admin_url', __( 'wcsync URL', 'wcsync-admin' ), array( $this, 'field_url' ), self::PAGE, 'wcsync_admin_connection', array( 'label_for' => 'wcsync_admin_url' ) );
		add_settings_field( 'wcsync_admin_token', __( 'Store token', 'wcsync-admin' ), array( $this, 'field_token' ), self::PAGE, 'wcsync_admin_connection', array( 'label_for' => 'wcsync_admin_token' ) );
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

		// The token field is posted with the form; options.php has checked the form's nonce.
		// phpcs:ignore WordPress.Security.NonceVerification.Missing
		$token = isset( $_POST[ self::TOKEN_OPTION ] ) ? sanitize_text_field( wp_unslash( (string) $_POST[ self::TOKEN_OPTION ] ) ) : '';
		self::save_token( $this->sanitize_token( $token ) );

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
		delete_transient( Wcsync_Admin_Client::ROLE_TRANSIENT );
		return $token;
	}

	/**
	 * Save the token with autoload off. update_option() keeps an existing option's autoload
	 * flag when the value is unchanged, so the option is written afresh.
	 *
	 * @param string $token The token.
	 */
	public static function save_token( string $token ): void {
		if ( '' === $token ) {
			return;
		}
		$saved = get_option( self::TOKEN_OPTION, null );
		if ( $saved === $token && ! self::token_autoloaded() ) {
			return;
		}
		delete_option( self::TOKEN_OPTION );
		add_option( self::TOKEN_OPTION, $token, '', 'no' );
	}

	/**
	 * Whether the token option is among the options WordPress loads on every request.
	 */
	private static function token_autoloaded(): bool {
		$all = wp_load_alloptions();
		return is_array( $all ) && array_key_exists( self::TOKEN_OPTION, $all );
	}

	/**
	 * Once per version: 0.1.0 let options.php create the token option, autoloaded.
	 */
	public function maybe_upgrade(): void {
		if ( get_option( self::VERSION_OPTION ) === WCSYNC_ADMIN_VERSION ) {
			return;
		}
		$token = get_option( self::TOKEN_OPTION, '' );
		if ( is_string( $token ) && '' !== $token && self::token_autoloaded() ) {
			delete_option( self::TOKEN_OPTION );
			add_option( self::TOKEN_OPTION, $token, '', 'no' );
		}
		update_option( self::VERSION_OPTION, WCSYNC_ADMIN_VERSION );
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
	 * The settings page, and its Failed orders tab (filled in by the script).
	 */
	public function render_page(): void {
		if ( ! current_user_can( self::CAPABILITY ) ) {
			wp_die( esc_html__( 'You are not allowed to change the wcsync settings.', 'wcsync-admin' ) );
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- which tab to show; nothing is changed.
		$tab  = isset( $_GET['tab'] ) ? sanitize_key( wp_unslash( $_GET['tab'] ) ) : '';
		$base = admin_url( 'admin.php?page=' . self::PAGE );
		?>
		<div class="wrap wcsync-admin-settings">
			<h1><?php echo esc_html( get_admin_page_title() ); ?></h1>
			<nav class="nav-tab-wrapper" aria-label="<?php esc_attr_e( 'wcsync', 'wcsync-admin' ); ?>">
				<a href="<?php echo esc_url( $base ); ?>" class="nav-tab<?php echo esc_attr( 'failed' === $tab ? '' : ' nav-tab-active' ); ?>"><?php esc_html_e( 'Settings', 'wcsync-admin' ); ?></a>
				<a href="<?php echo esc_url( $base . '&tab=failed' ); ?>" class="nav-tab<?php echo esc_attr( 'failed' === $tab ? ' nav-tab-active' : '' ); ?>"><?php esc_html_e( 'Failed orders', 'wcsync-admin' ); ?></a>
			</nav>
			<?php if ( 'failed' === $tab ) : ?>
				<p><?php esc_html_e( 'Orders of this store that wcsync could not copy, or whose copy here it could not bring up to date, with the reason. Put the cause right (often a product SKU missing on the other store), then press Sync Order.', 'wcsync-admin' ); ?></p>
				<div id="wcsync-admin-failed-list" aria-live="polite"><p><?php esc_html_e( 'Checking wcsync…', 'wcsync-admin' ); ?></p></div>
			<?php else : ?>
				<?php
				// All of them: options.php files "Settings saved." under 'general' when nothing
				// went wrong, and WordPress prints it by itself only on the Settings menu's pages.
				settings_errors();
				?>
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
		echo '<p class="description" id="wcsync_admin_token_help">' . esc_html__( 'A store token for this store (wcst_…), made in wcsync\'s dashboard (Stores, WordPress plugin tokens) or with: wcsync token create --store NAME. Stored on this server only, never sent to the browser.', 'wcsync-admin' ) . '</p>';
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
