#!/usr/bin/env bash
# realwc.sh - build and run real WordPress + WooCommerce test stores on 127.0.0.1 (php -S, or nginx + PHP-FPM
# over TLS from a local CA, + MariaDB).
#
#   realwc.sh setup  [options]   install missing packages, create DBs, sites, products, REST keys; write DIR/stores.json
#   realwc.sh start  [options]   start the stores (idempotent); returns when every store answers system_status 200
#   realwc.sh stop   [options]   stop the processes recorded in DIR/run/*.pid
#   realwc.sh status [options]   show what is running and whether each store answers
#   realwc.sh verify [options] [-- verify.py args]   run the REST/webhook/storage checks against DIR/stores.json
#   realwc.sh reset  [options]   stop, drop DIR's databases, remove DIR's sites/keys/logs/run/stores.json
#
# Options (environment variable in brackets):
#   --dir DIR                 where sites/, logs/, run/, keys/, stores.json go   [REALWC_DIR, default ./realwc-stores]
#   --dist DIR                setup: the folder holding the archives (wpbase-6.1.9.tar.gz or wordpress-6.1.9.tar.gz, …,
#                             woocommerce-7.8.2.tar.gz or woocommerce.7.8.2.zip, …)   [WCSYNC_REALWC_DIST, no default]
#   --stores "SPEC ..."       name:port:line:storage[:https[:STRIP_PORT]], line 7.8|10.6, storage posts|hpos;
#                             https: served by nginx + PHP-FPM over TLS (local CA in DIR/tls) instead of php -S;
#                             STRIP_PORT: a second nginx server for the same site that drops the Authorization
#                             header before PHP (a host that strips it)   [REALWC_STORES]
#                             default "main:8081:7.8:posts sub1:8082:7.8:posts sub2:8083:7.8:hpos"
#   --db-prefix P             database name prefix, DB = P<name>                 [REALWC_DB_PREFIX, default wcrig_]
#   --db-user U --db-pass P   MariaDB account the stores use (created if missing) [REALWC_DB_USER/REALWC_DB_PASS, wc/wcpass]
#   --mariadb-user U          admin account used to create DBs/users              [REALWC_MARIADB_USER, default root]
#   --mariadb-password P      its password (default empty: unix-socket auth)      [REALWC_MARIADB_PASSWORD]
#   --mariadb-socket PATH     server socket (default: the client's default)       [REALWC_MARIADB_SOCKET]
#   --workers N               PHP_CLI_SERVER_WORKERS per store                    [REALWC_PHP_WORKERS, default 4]
#   --timeout S               start: seconds to wait for the stores              [REALWC_START_TIMEOUT, default 180]
#   --no-apt                  setup: never call apt-get (fail if something is missing) [REALWC_NO_APT=1]
#   --force                   setup: drop and recreate a database of the same name that this DIR did not create
#
# setup records the options in DIR/realwc.conf; later commands on the same --dir reuse them unless given again.
set -euo pipefail

KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
DEFAULT_STORES="main:8081:7.8:posts sub1:8082:7.8:posts sub2:8083:7.8:hpos"
# The distribution's default PHP (8.2 on Debian 12, 8.4 on Debian 13) with the extensions WordPress
# and WooCommerce need; each package is installed only when PHP lacks its module.
PHP_MODULES=(mysqli curl dom mbstring gd intl zip bcmath)
PHP_PACKAGES=(php-mysql php-curl php-xml php-mbstring php-gd php-intl php-zip php-bcmath)

# line -> "wordpress-version woocommerce-version"
line_versions() {
  case "$1" in
    7.8)  echo "6.1.9 7.8.2" ;;
    10.6) echo "6.8.12 10.6.2" ;;
    *) return 1 ;;
  esac
}

die() { echo "realwc: $*" >&2; exit 1; }
say() { echo "realwc: $*"; }
usage() { sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ------------------------------------------------------------------ options
CMD="${1:-}"
[ -n "$CMD" ] || { usage; exit 2; }
shift
case "$CMD" in setup|start|stop|status|verify|reset) ;; -h|--help|help) usage; exit 0 ;; *) usage >&2; exit 2 ;; esac

OPT_DIR="${REALWC_DIR:-}"
# wcsync keeps the archives out of the repository: setup finds them where WCSYNC_REALWC_DIST points.
DIST="${WCSYNC_REALWC_DIST:-}"
declare -A OPT=()
[ -n "${REALWC_STORES:-}" ] && OPT[STORES]="$REALWC_STORES"
[ -n "${REALWC_DB_PREFIX:-}" ] && OPT[DB_PREFIX]="$REALWC_DB_PREFIX"
[ -n "${REALWC_DB_USER:-}" ] && OPT[DB_USER]="$REALWC_DB_USER"
[ -n "${REALWC_DB_PASS:-}" ] && OPT[DB_PASS]="$REALWC_DB_PASS"
[ -n "${REALWC_MARIADB_USER:-}" ] && OPT[MARIADB_USER]="$REALWC_MARIADB_USER"
[ -n "${REALWC_MARIADB_PASSWORD:-}" ] && OPT[MARIADB_PASSWORD]="$REALWC_MARIADB_PASSWORD"
[ -n "${REALWC_MARIADB_SOCKET:-}" ] && OPT[MARIADB_SOCKET]="$REALWC_MARIADB_SOCKET"
[ -n "${REALWC_PHP_WORKERS:-}" ] && OPT[WORKERS]="$REALWC_PHP_WORKERS"
START_TIMEOUT="${REALWC_START_TIMEOUT:-180}"
NO_APT="${REALWC_NO_APT:-0}"
FORCE=0
PASSTHRU=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) OPT_DIR="${2:?--dir needs a value}"; shift 2 ;;
    --dir=*) OPT_DIR="${1#*=}"; shift ;;
    --dist) DIST="${2:?--dist needs a value}"; shift 2 ;;
    --dist=*) DIST="${1#*=}"; shift ;;
    --stores) OPT[STORES]="${2:?--stores needs a value}"; shift 2 ;;
    --stores=*) OPT[STORES]="${1#*=}"; shift ;;
    --db-prefix) OPT[DB_PREFIX]="${2:?}"; shift 2 ;;
    --db-user) OPT[DB_USER]="${2:?}"; shift 2 ;;
    --db-pass) OPT[DB_PASS]="${2:?}"; shift 2 ;;
    --mariadb-user) OPT[MARIADB_USER]="${2:?}"; shift 2 ;;
    --mariadb-password) OPT[MARIADB_PASSWORD]="${2?}"; shift 2 ;;
    --mariadb-socket) OPT[MARIADB_SOCKET]="${2:?}"; shift 2 ;;
    --workers) OPT[WORKERS]="${2:?}"; shift 2 ;;
    --timeout) START_TIMEOUT="${2:?}"; shift 2 ;;
    --no-apt) NO_APT=1; shift ;;
    --force) FORCE=1; shift ;;
    --) shift; PASSTHRU=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) if [ "$CMD" = verify ]; then PASSTHRU+=("$1"); shift; else die "unknown option: $1 (see --help)"; fi ;;
  esac
done

DIR="${OPT_DIR:-./realwc-stores}"
if [ ! -d "$DIR" ]; then
  case "$CMD" in
    setup) mkdir -p "$DIR" ;;
    stop|reset) echo "realwc: $DIR does not exist; nothing to do"; exit 0 ;;
    *) die "$DIR does not exist: run '$0 setup --dir $DIR' first" ;;
  esac
fi
DIR="$(cd "$DIR" && pwd -P)"
CONF="$DIR/realwc.conf"

# Saved configuration (written by setup) < explicit options/environment.
STORES="$DEFAULT_STORES"; DB_PREFIX=wcrig_; DB_USER=wc; DB_PASS=wcpass
MARIADB_USER=root; MARIADB_PASSWORD=""; MARIADB_SOCKET=""; WORKERS=4
if [ -f "$CONF" ]; then
  while IFS='=' read -r k v; do
    case "$k" in STORES|DB_PREFIX|DB_USER|DB_PASS|MARIADB_USER|MARIADB_PASSWORD|MARIADB_SOCKET|WORKERS) printf -v "$k" '%s' "$v" ;; esac
  done < "$CONF"
fi
for k in "${!OPT[@]}"; do printf -v "$k" '%s' "${OPT[$k]}"; done

# Parse the store list into parallel arrays.
S_NAME=(); S_PORT=(); S_LINE=(); S_HPOS=(); S_WP=(); S_WC=(); S_WEB=(); S_STRIP=()
for spec in $STORES; do
  IFS=: read -r n p l st web strip extra <<<"$spec"
  [ -z "${extra:-}" ] || die "bad store spec '$spec' (name:port:line:storage[:https[:STRIP_PORT]])"
  case "${web:-}" in "") web=php ;; https) ;; *) die "bad server '$web' in '$spec' (https or nothing)" ;; esac
  if [ -n "${strip:-}" ]; then
    [ "$web" = https ] || die "a strip port needs :https in '$spec'"
    [[ "$strip" =~ ^[0-9]+$ ]] && [ "$strip" -ge 1024 ] && [ "$strip" -le 65535 ] || die "bad strip port '$strip' in '$spec'"
  fi
  [[ "$n" =~ ^[a-z0-9_]{1,32}$ ]] || die "bad store name '$n' in '$spec' (use a-z 0-9 _)"
  [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -ge 1024 ] && [ "$p" -le 65535 ] || die "bad port '$p' in '$spec'"
  v=$(line_versions "$l") || die "bad WooCommerce line '$l' in '$spec' (7.8 or 10.6)"
  case "$st" in posts) h=0 ;; hpos) h=1 ;; *) die "bad storage '$st' in '$spec' (posts or hpos)" ;; esac
  for o in "${S_NAME[@]}"; do [ "$o" != "$n" ] || die "store name '$n' given twice"; done
  for o in "${S_PORT[@]}"; do [ "$o" != "$p" ] || die "port $p given twice"; done
  S_NAME+=("$n"); S_PORT+=("$p"); S_LINE+=("$l"); S_HPOS+=("$h"); S_WEB+=("$web"); S_STRIP+=("${strip:-}")
  S_WP+=("${v% *}"); S_WC+=("${v#* }")
done
[ "${#S_NAME[@]}" -gt 0 ] || die "no stores given"
any_https() { local w; for w in "${S_WEB[@]}"; do [ "$w" = https ] && return 0; done; return 1; }
store_url() { if [ "${S_WEB[$1]}" = https ]; then echo "https://127.0.0.1:${S_PORT[$1]}"; else echo "http://127.0.0.1:${S_PORT[$1]}"; fi; }
TLS="$DIR/tls"
[[ "$DB_PREFIX" =~ ^[A-Za-z0-9_]{1,32}$ ]] || die "bad --db-prefix '$DB_PREFIX'"
[[ "$WORKERS" =~ ^[0-9]+$ ]] || die "bad --workers '$WORKERS'"

# ------------------------------------------------------------------ MariaDB helpers
mysql_admin() {
  MYSQL_PWD="$MARIADB_PASSWORD" mysql -u"$MARIADB_USER" ${MARIADB_SOCKET:+--socket="$MARIADB_SOCKET"} "$@"
}
db_ping() { mysqladmin ${MARIADB_SOCKET:+--socket="$MARIADB_SOCKET"} ping --silent >/dev/null 2>&1; }

ensure_mariadb() {
  db_ping && return 0
  [ -z "$MARIADB_SOCKET" ] || die "MariaDB does not answer on $MARIADB_SOCKET (not starting a server for a custom socket)"
  say "starting MariaDB"
  mkdir -p "$DIR/logs"
  if ! service mariadb start >/dev/null 2>&1; then
    command -v mysqld_safe >/dev/null 2>&1 || die "MariaDB is not running and cannot be started (no service, no mysqld_safe)"
    (setsid mysqld_safe >>"$DIR/logs/mysqld_safe.log" 2>&1 < /dev/null &)
  fi
  for _ in $(seq 1 60); do db_ping && return 0; sleep 1; done
  die "MariaDB did not come up"
}

ensure_packages() {
  local need=() p
  if ! command -v php >/dev/null 2>&1; then
    need+=(php-cli "${PHP_PACKAGES[@]}")
  else
    local mods i; mods=$(php -m 2>/dev/null | tr 'A-Z' 'a-z')
    for i in "${!PHP_MODULES[@]}"; do
      grep -qx "${PHP_MODULES[$i]}" <<<"$mods" || need+=("${PHP_PACKAGES[$i]}")
    done
  fi
  command -v mysql >/dev/null 2>&1 && command -v mysqladmin >/dev/null 2>&1 || need+=(mariadb-client)
  if [ -z "$MARIADB_SOCKET" ] && ! db_ping && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ] && [ ! -x /usr/sbin/mysqld ]; then
    need+=(mariadb-server)
  fi
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  command -v setsid >/dev/null 2>&1 || need+=(util-linux)
  if any_https; then
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
    php_fpm_bin >/dev/null || need+=(php-fpm)
    command -v openssl >/dev/null 2>&1 || need+=(openssl)
  fi
  [ "${#need[@]}" -eq 0 ] && return 0
  [ "$NO_APT" != 1 ] || die "missing packages: ${need[*]} (--no-apt given)"
  say "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>"$DIR/logs/apt.log" \
    || { apt-get update -q >/dev/null 2>>"$DIR/logs/apt.log" && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>>"$DIR/logs/apt.log"; } \
    || die "apt-get install failed (see $DIR/logs/apt.log)"
}

kit_id() { cat "$DIR/.realwc-id" 2>/dev/null || true; }

# ------------------------------------------------------------------ HTTPS stores: local CA, nginx, PHP-FPM
php_fpm_bin() {  # the distribution's PHP-FPM for the PHP the CLI runs (php-fpm8.2 on Debian 12)
  local v f; v=$(php -r 'echo PHP_MAJOR_VERSION . "." . PHP_MINOR_VERSION;' 2>/dev/null || true)
  for f in "/usr/sbin/php-fpm$v" "$(command -v "php-fpm$v" 2>/dev/null)" "$(command -v php-fpm 2>/dev/null)"; do
    [ -n "$f" ] && [ -x "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}
nginx_bin() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }; }

# ensure_tls: a local CA (DIR/tls/ca.pem + ca.key) and a server certificate it signed for 127.0.0.1 and
# localhost (DIR/tls/server.pem + server.key). Made once; kept while valid.
ensure_tls() {
  mkdir -p "$TLS"; chmod 700 "$TLS"
  if [ -s "$TLS/ca.pem" ] && [ -s "$TLS/server.pem" ] && [ -s "$TLS/server.key" ] \
     && openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" >/dev/null 2>&1 \
     && openssl verify -CAfile "$TLS/ca.pem" "$TLS/server.pem" >/dev/null 2>&1; then
    return 0
  fi
  local log="$DIR/logs/tls.log"; mkdir -p "$DIR/logs"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
      -subj "/O=realwc/CN=realwc local test CA $(kit_id)" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" \
    && openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$TLS/server.key" -out "$TLS/server.csr" \
      -subj "/O=realwc/CN=127.0.0.1" \
    && printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
      "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid,issuer" > "$TLS/server.ext" \
    && openssl x509 -req -sha256 -days 825 -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
      -CAcreateserial -CAserial "$TLS/ca.srl" -extfile "$TLS/server.ext" -out "$TLS/server.pem"
  } >"$log" 2>&1 || die "could not make the local CA and server certificate (see $log)"
  rm -f "$TLS/server.csr"
  chmod 600 "$TLS/ca.key" "$TLS/server.key"; chmod 644 "$TLS/ca.pem" "$TLS/server.pem"
  say "local CA: $TLS/ca.pem (server certificate for 127.0.0.1 and localhost: $TLS/server.pem)"
}

# write_web_configs I: DIR/web/NAME-fpm.conf (a PHP-FPM pool on a unix socket) and DIR/web/NAME-nginx.conf
# (TLS on the store's port, FastCGI to that pool; with a strip port, a second server that drops the
# Authorization header before PHP, as some hosts do). Written at every start from the current kit.
write_web_configs() {
  local i="$1" NAME=${S_NAME[$1]} PORT=${S_PORT[$1]} STRIP=${S_STRIP[$1]}
  local SITE="$DIR/sites/$NAME" WEB="$DIR/web" RUN="$DIR/run" LOGS="$DIR/logs"
  mkdir -p "$WEB" "$RUN/$NAME-nginx"
  cat > "$WEB/$NAME-fpm.conf" <<CONF
; PHP-FPM for realwc store '$NAME' (generated by realwc.sh start; run as: php-fpm -F -R -y this file)
[global]
pid = $RUN/$NAME-fpm.master-pid
error_log = $LOGS/$NAME-fpm.log
daemonize = no

[$NAME]
; root, like the rest of the kit (the site tree is root's); -R allows it
user = root
group = root
listen = $RUN/$NAME-fpm.sock
listen.mode = 0600
pm = static
pm.max_children = $WORKERS
request_terminate_timeout = 0
catch_workers_output = yes
clear_env = no
php_admin_flag[display_errors] = off
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $LOGS/$NAME-php-error.log
php_admin_value[memory_limit] = 512M
php_admin_value[max_execution_time] = 0
php_admin_value[opcache.memory_consumption] = 256
php_admin_value[opcache.max_accelerated_files] = 20000
php_admin_value[opcache.revalidate_freq] = 2
php_admin_value[upload_max_filesize] = 64M
php_admin_value[post_max_size] = 64M
CONF
  local php_location
  php_location() {  # $1: extra FastCGI lines
    cat <<LOC
        location ~ \.php\$ {
            try_files \$uri =404;
            fastcgi_split_path_info ^(.+\.php)(/.+)\$;
            include /etc/nginx/fastcgi_params;
            # Debian's fastcgi_params passes HTTP_HOST as \$host, without the port: WordPress would
            # build its admin URLs without it on a port other than 443. The last value is PHP's.
            fastcgi_param HTTP_HOST \$host:\$server_port;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param HTTPS on;
            fastcgi_read_timeout 600s;
$1
            fastcgi_pass unix:$RUN/$NAME-fpm.sock;
        }
LOC
  }
  server_block() {  # $1: port, $2: extra FastCGI lines, $3: comment
    cat <<SRV
    # $3
    server {
        listen 127.0.0.1:$1 ssl;
        server_name 127.0.0.1 localhost;
        ssl_certificate     $TLS/server.pem;
        ssl_certificate_key $TLS/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $SITE;
        index index.php;
        client_max_body_size 64m;
        location / {
            try_files \$uri \$uri/ /index.php\$is_args\$args;
        }
$(php_location "$2")
    }
SRV
  }
  {
    cat <<CONF
# nginx for realwc store '$NAME' (generated by realwc.sh start; run as: nginx -c this file -p $RUN/$NAME-nginx/)
daemon off;
user root root;
worker_processes 2;
pid $RUN/$NAME-nginx.master-pid;
error_log $LOGS/$NAME-nginx-error.log warn;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $LOGS/$NAME-nginx-access.log;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path $RUN/$NAME-nginx/client_body;
    fastcgi_temp_path $RUN/$NAME-nginx/fastcgi;
    proxy_temp_path $RUN/$NAME-nginx/proxy;
    uwsgi_temp_path $RUN/$NAME-nginx/uwsgi;
    scgi_temp_path $RUN/$NAME-nginx/scgi;
CONF
    server_block "$PORT" "" "the store, as a well-configured host serves it: nginx passes Authorization to PHP-FPM"
    if [ -n "$STRIP" ]; then
      # An empty value replaces the client's header (nginx never passes a header whose HTTP_ name
      # is set here) and if_not_empty leaves it out: PHP sees no HTTP_AUTHORIZATION at all.
      server_block "$STRIP" '            fastcgi_param HTTP_AUTHORIZATION "" if_not_empty;' \
        "the same store behind a host that drops the Authorization header before PHP"
    fi
    echo "}"
  } > "$WEB/$NAME-nginx.conf"
}

start_https_store() {  # I: PHP-FPM (run/NAME.pid) and nginx (run/NAME-nginx.pid) for one https store
  local i="$1" NAME=${S_NAME[$1]} PORT=${S_PORT[$1]} STRIP=${S_STRIP[$1]} fpm ngx p
  fpm=$(php_fpm_bin) || die "$NAME: PHP-FPM is not installed (apt-get install php-fpm)"
  ngx=$(nginx_bin) || die "$NAME: nginx is not installed (apt-get install nginx)"
  write_web_configs "$i"
  if pid_alive_matching "$DIR/run/$NAME.pid" "$DIR/web/$NAME-fpm.conf"; then
    say "$NAME: PHP-FPM already running (pid $(cat "$DIR/run/$NAME.pid"))"
  else
    rm -f "$DIR/run/$NAME-fpm.sock"
    launch "$DIR/run/$NAME.pid" "$DIR/logs/$NAME-server.log" "$fpm" -F -R -y "$DIR/web/$NAME-fpm.conf"
    say "$NAME: started PHP-FPM (pid $(cat "$DIR/run/$NAME.pid"))"
  fi
  if pid_alive_matching "$DIR/run/$NAME-nginx.pid" "$DIR/web/$NAME-nginx.conf"; then
    kill -HUP "$(cat "$DIR/run/$NAME-nginx.pid")" 2>/dev/null || true   # reload the regenerated config
    say "$NAME: nginx already running (pid $(cat "$DIR/run/$NAME-nginx.pid")); reloaded"
  else
    for p in "$PORT" $STRIP; do
      port_busy "$p" && die "$NAME: port $p is in use by a process not started for $DIR; not touching it"
    done
    "$ngx" -t -q -c "$DIR/web/$NAME-nginx.conf" -p "$DIR/run/$NAME-nginx/" >>"$DIR/logs/$NAME-nginx.log" 2>&1 \
      || die "$NAME: nginx refuses $DIR/web/$NAME-nginx.conf (see $DIR/logs/$NAME-nginx.log)"
    launch "$DIR/run/$NAME-nginx.pid" "$DIR/logs/$NAME-nginx.log" "$ngx" -c "$DIR/web/$NAME-nginx.conf" -p "$DIR/run/$NAME-nginx/"
    say "$NAME: started nginx on https://127.0.0.1:$PORT${STRIP:+ and https://127.0.0.1:$STRIP (Authorization dropped)} (pid $(cat "$DIR/run/$NAME-nginx.pid"))"
  fi
}

# ------------------------------------------------------------------ process helpers
# pid_alive_matching <pidfile> <substring of /proc/PID/cmdline>
pid_alive_matching() {
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}
port_busy() { (echo > "/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
# launch <pidfile> <logfile> cmd...: new session (own process group); the group leader's pid goes to <pidfile>.
launch() {
  local pidf="$1" log="$2"; shift 2
  rm -f "$pidf"
  setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' realwc-launch "$pidf" "$@" >>"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 50); do [ -s "$pidf" ] && return 0; sleep 0.1; done
  die "could not start: $*"
}
pidfile_pattern() {  # what a live process recorded in this pidfile must have on its command line
  local base; base=$(basename "$1" .pid)
  if [ "$base" = cronpump ]; then echo "cronpump.sh"; return; fi
  # nginx and PHP-FPM of an https store show their generated config's path in their process title.
  if [[ "$base" == *-nginx ]]; then echo "$DIR/web/$base.conf"; return; fi
  if [ -f "$DIR/web/$base-fpm.conf" ] && ! tr '\0' ' ' < "/proc/$(cat "$1" 2>/dev/null)/cmdline" 2>/dev/null | grep -qF -- "-S 127.0.0.1:"; then
    echo "$DIR/web/$base-fpm.conf"; return
  fi
  local i; for i in "${!S_NAME[@]}"; do [ "${S_NAME[$i]}" = "$base" ] && { echo "-S 127.0.0.1:${S_PORT[$i]}"; return; }; done
  echo "-S 127.0.0.1:"   # a store no longer in the list: still only a php -S server
}
server_pattern() {  # I: what the process in run/NAME.pid must show for store I
  if [ "${S_WEB[$1]}" = https ]; then echo "$DIR/web/${S_NAME[$1]}-fpm.conf"; else echo "-S 127.0.0.1:${S_PORT[$1]}"; fi
}

need_stores_json() { [ -s "$DIR/stores.json" ] || die "$DIR/stores.json not found: run '$0 setup --dir $DIR' first"; }

# ------------------------------------------------------------------ commands
# The archives a store needs, under the names of the kit or of wordpress.org's downloads:
# WordPress wpbase-V.tar.gz or wordpress-V.tar.gz (one top folder), WooCommerce woocommerce-V.tar.gz
# (holding woocommerce/) or woocommerce.V.zip.
wp_archive() { local f; for f in "$DIST/wpbase-$1.tar.gz" "$DIST/wordpress-$1.tar.gz"; do [ -f "$f" ] && { echo "$f"; return 0; }; done; return 1; }
wc_archive() { local f; for f in "$DIST/woocommerce-$1.tar.gz" "$DIST/woocommerce.$1.zip"; do [ -f "$f" ] && { echo "$f"; return 0; }; done; return 1; }

# need_dist: every archive the store list needs is in $DIST, or a sentence saying what to provide.
need_dist() {
  local i missing=()
  local what="WordPress 6.1.9 and 6.8.12 (wordpress-6.1.9.tar.gz, wordpress-6.8.12.tar.gz) and WooCommerce 7.8.2 and 10.6.2 (woocommerce.7.8.2.zip, woocommerce.10.6.2.zip), as downloaded from wordpress.org"
  [ -n "$DIST" ] || die "set WCSYNC_REALWC_DIST (or --dist) to a folder holding $what"
  [ -d "$DIST" ] || die "WCSYNC_REALWC_DIST=$DIST is not a folder; it must hold $what"
  for i in "${!S_NAME[@]}"; do
    wp_archive "${S_WP[$i]}" >/dev/null || missing+=("wordpress-${S_WP[$i]}.tar.gz")
    wc_archive "${S_WC[$i]}" >/dev/null || missing+=("woocommerce.${S_WC[$i]}.zip")
  done
  [ "${#missing[@]}" -eq 0 ] || die "WCSYNC_REALWC_DIST=$DIST lacks $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')(download them from wordpress.org)"
  DIST="$(cd "$DIST" && pwd -P)"
}

cmd_setup() {
  local t0=$SECONDS
  need_dist
  mkdir -p "$DIR/sites" "$DIR/logs" "$DIR/run" "$DIR/keys"
  chmod 700 "$DIR/keys"
  ensure_packages
  ensure_mariadb
  [ -s "$DIR/.realwc-id" ] || php -r 'echo bin2hex(random_bytes(8)), "\n";' > "$DIR/.realwc-id"
  ! any_https || ensure_tls
  local id; id=$(kit_id)
  {
    echo "# realwc configuration for this directory (written by realwc.sh setup)"
    for k in STORES DB_PREFIX DB_USER DB_PASS MARIADB_USER MARIADB_PASSWORD MARIADB_SOCKET WORKERS; do echo "$k=${!k}"; done
  } > "$CONF"
  chmod 600 "$CONF"

  # Databases: each carries the comment realwc:<id of this DIR>, so reset only ever drops this DIR's databases.
  local i n db comment sql=""
  for i in "${!S_NAME[@]}"; do
    n=${S_NAME[$i]}; db="$DB_PREFIX$n"
    if [ -n "$(mysql_admin -N -B -e "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$db'")" ]; then
      comment=$(mysql_admin -N -B -e "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='$db'")
      if [ "$comment" != "realwc:$id" ]; then
        if [ "$FORCE" = 1 ]; then
          say "dropping database $db (not created for this directory; --force)"
          mysql_admin -e "DROP DATABASE \`$db\`"
          rm -rf "${DIR:?}/sites/$n" "$DIR/keys/$n.json"
        else
          die "database $db already exists and was not created for $DIR (comment '${comment}'); use another store name or --db-prefix, run reset from the directory that owns it, or pass --force to drop it"
        fi
      fi
    elif [ -f "$DIR/sites/$n/wp-config.php" ]; then
      say "$n: database $db is gone; rebuilding the site tree"
      rm -rf "${DIR:?}/sites/$n" "$DIR/keys/$n.json"
    fi
    sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci COMMENT 'realwc:$id';"
    sql+="GRANT ALL ON \`$db\`.* TO '$DB_USER'@'localhost'; GRANT ALL ON \`$db\`.* TO '$DB_USER'@'127.0.0.1';"
  done
  mysql_admin <<SQL
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
$sql
FLUSH PRIVILEGES;
SQL
  MYSQL_PWD="$DB_PASS" mysql -u"$DB_USER" ${MARIADB_SOCKET:+--socket="$MARIADB_SOCKET"} -e "SELECT 1" "$DB_PREFIX${S_NAME[0]}" >/dev/null 2>&1 \
    || die "cannot log in to MariaDB as $DB_USER with the given --db-pass (the account exists with another password?)"

  local dbhost=localhost
  [ -z "$MARIADB_SOCKET" ] || dbhost="localhost:$MARIADB_SOCKET"
  local outs=()
  for i in "${!S_NAME[@]}"; do
    local NAME=${S_NAME[$i]} PORT=${S_PORT[$i]} WPV=${S_WP[$i]} WCV=${S_WC[$i]} HPOS=${S_HPOS[$i]}
    local SITE="$DIR/sites/$NAME" URL LOG="$DIR/logs/setup-$NAME.log"
    URL=$(store_url "$i")
    local ts=$SECONDS
    local wptar wctar
    wptar=$(wp_archive "$WPV") || die "missing the WordPress $WPV archive in $DIST"
    wctar=$(wc_archive "$WCV") || die "missing the WooCommerce $WCV archive in $DIST"
    if [ ! -f "$SITE/wp-settings.php" ]; then
      mkdir -p "$SITE"
      tar -C "$SITE" --strip-components=1 -xzf "$wptar"   # the archive holds one top folder (wpbase*/)
    fi
    grep -q "wp_version = '$WPV'" "$SITE/wp-includes/version.php" \
      || die "$NAME: $SITE holds another WordPress version than $WPV (changed the line? run reset first)"
    if [ ! -f "$SITE/wp-content/plugins/woocommerce/woocommerce.php" ]; then
      mkdir -p "$SITE/wp-content/plugins"
      case "$wctar" in
        *.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wctar" "$SITE/wp-content/plugins" ;;
        *) tar -C "$SITE/wp-content/plugins" -xzf "$wctar" ;;
      esac
    fi
    grep -q "Version: $WCV[[:space:]]*\$" "$SITE/wp-content/plugins/woocommerce/woocommerce.php" \
      || die "$NAME: WooCommerce in $SITE is not $WCV (run reset first)"
    mkdir -p "$SITE/wp-content/mu-plugins" "$SITE/wp-content/uploads"
    cp "$KIT/scripts/wcrig.php" "$SITE/wp-content/mu-plugins/wcrig.php"
    if [ ! -f "$SITE/wp-config.php" ]; then
      local salts
      salts=$(php -r 'foreach(["AUTH_KEY","SECURE_AUTH_KEY","LOGGED_IN_KEY","NONCE_KEY","AUTH_SALT","SECURE_AUTH_SALT","LOGGED_IN_SALT","NONCE_SALT"] as $k) echo "define( \x27$k\x27, \x27".bin2hex(random_bytes(32))."\x27 );\n";')
      cat > "$SITE/wp-config.php" <<PHP
<?php
// wp-config for realwc store '$NAME' (generated by realwc.sh setup)
define( 'DB_NAME', '$DB_PREFIX$NAME' );
define( 'DB_USER', '$DB_USER' );
define( 'DB_PASSWORD', '$DB_PASS' );
define( 'DB_HOST', '$dbhost' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
$salts
\$table_prefix = 'wp_';
define( 'WP_HOME', '$URL' );
define( 'WP_SITEURL', '$URL' );
define( 'WCRIG_STORE', '$NAME' );
define( 'WCRIG_LOG_DIR', dirname( __DIR__, 2 ) . '/logs' );  // <DIR>/logs (this file is <DIR>/sites/$NAME/wp-config.php)
// define( 'WCRIG_BASIC_OVER_HTTP', false ); // turn off WooCommerce key auth (Basic / ck+cs query) over plain http
// define( 'WCRIG_AS_INTERVAL', 5 );         // Action Scheduler queue-runner interval (s)
define( 'DISABLE_WP_CRON', true );            // WP-Cron is driven by the cron pump (GET /wp-cron.php every 2 s)
define( 'WP_CRON_LOCK_TIMEOUT', 10 );        // the pump runs one request at a time per store; a run that dies holding the lock blocks cron for 10 s, not 60
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'FS_METHOD', 'direct' );
define( 'WP_DEBUG', false );
define( 'WP_DEBUG_LOG', false );
define( 'WP_DEBUG_DISPLAY', false );
if ( file_exists( __DIR__ . '/wp-config-local.php' ) ) { require __DIR__ . '/wp-config-local.php'; }
if ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }
require_once ABSPATH . 'wp-settings.php';
PHP
    fi
    {
      php "$KIT/scripts/phase1-wp.php" "$SITE" "$URL" "$NAME" \
        && php "$KIT/scripts/phase2-activate.php" "$SITE" "$URL" \
        && php "$KIT/scripts/phase3-wc.php" "$SITE" "$URL" "$NAME" "$HPOS" "$DIR/keys" "$i" > "$DIR/run/setup-$NAME.json"
    } >>"$LOG" 2>&1 || die "$NAME: provisioning failed (see $LOG)"
    outs+=("$DIR/run/setup-$NAME.json")
    say "$NAME: WordPress $WPV + WooCommerce $WCV, $([ "$HPOS" = 1 ] && echo HPOS || echo posts) storage, $URL ($((SECONDS - ts)) s)"
  done
  python3 "$KIT/scripts/kit.py" write-stores "$DIR/stores.json" "${outs[@]}"
  rm -f "${outs[@]}"
  say "setup done in $((SECONDS - t0)) s; wrote $DIR/stores.json"
}

cmd_start() {
  need_stores_json
  mkdir -p "$DIR/logs" "$DIR/run"
  ensure_mariadb
  local i urls=()
  ! any_https || ensure_tls
  for i in "${!S_NAME[@]}"; do
    local NAME=${S_NAME[$i]} PORT=${S_PORT[$i]}
    local SITE="$DIR/sites/$NAME" PIDF="$DIR/run/$NAME.pid"
    urls+=("$(store_url "$i")")
    [ -f "$SITE/wp-config.php" ] || die "$NAME is not set up in $DIR: run setup"
    grep -qF "'WP_HOME', '$(store_url "$i")'" "$SITE/wp-config.php" \
      || die "$NAME: $SITE was set up for another address than $(store_url "$i") (changed http/https? run reset first)"
    if [ "${S_WEB[$i]}" = https ]; then start_https_store "$i"; continue; fi
    if pid_alive_matching "$PIDF" "-S 127.0.0.1:$PORT"; then say "$NAME: already running (pid $(cat "$PIDF"))"; continue; fi
    rm -f "$PIDF"
    port_busy "$PORT" && die "$NAME: port $PORT is in use by a process not started for $DIR; not touching it"
    launch "$PIDF" "$DIR/logs/$NAME-server.log" env PHP_CLI_SERVER_WORKERS="$WORKERS" php \
      -d opcache.enable_cli=1 -d opcache.memory_consumption=256 -d opcache.max_accelerated_files=20000 \
      -d opcache.validate_timestamps=1 -d opcache.revalidate_freq=2 \
      -d display_errors=0 -d log_errors=1 -d error_log="$DIR/logs/$NAME-php-error.log" \
      -d memory_limit=512M -d max_execution_time=0 \
      -S "127.0.0.1:$PORT" -t "$SITE" "$KIT/scripts/router.php"
    say "$NAME: started php -S 127.0.0.1:$PORT (pid $(cat "$PIDF"))"
  done
  if pid_alive_matching "$DIR/run/cronpump.pid" "cronpump.sh ${urls[*]}"; then
    say "cron pump: already running (pid $(cat "$DIR/run/cronpump.pid"))"
  else
    stop_pidfile "$DIR/run/cronpump.pid" >/dev/null
    launch "$DIR/run/cronpump.pid" "$DIR/logs/cronpump.log" env REALWC_CA="$TLS/ca.pem" bash "$KIT/scripts/cronpump.sh" "${urls[@]}"
    say "cron pump: started (pid $(cat "$DIR/run/cronpump.pid"))"
  fi
  python3 "$KIT/scripts/kit.py" wait "$DIR/stores.json" --timeout "$START_TIMEOUT" --run-dir "$DIR/run" --ca "$TLS/ca.pem"
}

stop_pidfile() {
  local f="$1" pid pat
  [ -f "$f" ] || return 0
  pid=$(cat "$f" 2>/dev/null || true)
  pat=$(pidfile_pattern "$f")
  if pid_alive_matching "$f" "$pat"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $(basename "$f" .pid) (process group $pid)"
  fi
  rm -f "$f"
}

cmd_stop() {
  shopt -s nullglob
  local f any=0
  for f in "$DIR"/run/*.pid; do any=1; stop_pidfile "$f"; done
  [ "$any" = 1 ] || say "nothing running for $DIR"
}

cmd_status() {
  local i
  for i in "${!S_NAME[@]}"; do
    local NAME=${S_NAME[$i]} PORT=${S_PORT[$i]} PIDF="$DIR/run/${S_NAME[$i]}.pid"
    if [ "${S_WEB[$i]}" = https ]; then
      if pid_alive_matching "$PIDF" "$(server_pattern "$i")" && pid_alive_matching "$DIR/run/$NAME-nginx.pid" "$DIR/web/$NAME-nginx.conf"; then
        echo "$NAME: nginx + PHP-FPM on https://127.0.0.1:$PORT${S_STRIP[$i]:+ (Authorization dropped on ${S_STRIP[$i]})} running (pids $(cat "$DIR/run/$NAME-nginx.pid") $(cat "$PIDF")), WooCommerce ${S_WC[$i]}, $([ "${S_HPOS[$i]}" = 1 ] && echo hpos || echo posts)"
      else
        echo "$NAME: not running (https port $PORT), WooCommerce ${S_WC[$i]}, $([ "${S_HPOS[$i]}" = 1 ] && echo hpos || echo posts)"
      fi
    elif pid_alive_matching "$PIDF" "-S 127.0.0.1:$PORT"; then
      echo "$NAME: php -S 127.0.0.1:$PORT running (pid $(cat "$PIDF")), WooCommerce ${S_WC[$i]}, $([ "${S_HPOS[$i]}" = 1 ] && echo hpos || echo posts)"
    else
      echo "$NAME: not running (port $PORT), WooCommerce ${S_WC[$i]}, $([ "${S_HPOS[$i]}" = 1 ] && echo hpos || echo posts)"
    fi
  done
  if pid_alive_matching "$DIR/run/cronpump.pid" "cronpump.sh"; then echo "cron pump: running (pid $(cat "$DIR/run/cronpump.pid"))"; else echo "cron pump: not running"; fi
  if db_ping; then echo "MariaDB: up"; else echo "MariaDB: down"; fi
  if [ -s "$DIR/stores.json" ]; then
    python3 "$KIT/scripts/kit.py" probe "$DIR/stores.json" --ca "$TLS/ca.pem"
  else
    echo "stores.json: not written yet (run setup)"; return 1
  fi
}

cmd_verify() {
  need_stores_json
  # verify.py uses Python's default trust store; OpenSSL takes SSL_CERT_FILE for it (the local CA).
  SSL_CERT_FILE="$TLS/ca.pem" python3 "$KIT/scripts/verify.py" --stores-file "$DIR/stores.json" --db-user "$DB_USER" --db-pass "$DB_PASS" \
    ${MARIADB_SOCKET:+--mysql-socket "$MARIADB_SOCKET"} ${PASSTHRU[@]+"${PASSTHRU[@]}"}
}

cmd_reset() {
  cmd_stop
  local id db; id=$(kit_id)
  if [ -n "$id" ]; then
    if db_ping; then
      for db in $(mysql_admin -N -B -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_COMMENT='realwc:$id'"); do
        mysql_admin -e "DROP DATABASE \`$db\`" && say "dropped database $db"
        mysql_admin -e "REVOKE ALL PRIVILEGES ON \`$db\`.* FROM '$DB_USER'@'localhost'; REVOKE ALL PRIVILEGES ON \`$db\`.* FROM '$DB_USER'@'127.0.0.1'" 2>/dev/null || true
      done
    else
      echo "realwc: MariaDB is down; databases of $DIR were not dropped" >&2
    fi
  fi
  rm -rf "${DIR:?}/sites" "$DIR/keys" "$DIR/run" "$DIR/logs" "$DIR/web" "$DIR/tls" "$DIR/stores.json" "$CONF" "$DIR/.realwc-id"
  rmdir "$DIR" 2>/dev/null && say "removed $DIR" || say "reset $DIR"
}

"cmd_$CMD"
