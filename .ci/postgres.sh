# A throwaway PostgreSQL cluster for the test suite. Source this file, then:
#
#   start_postgres   initdb a cluster in a temporary folder, start it on a free port of
#                    127.0.0.1 (and a unix socket inside that folder), and export
#                    RIDGELINE_TEST_POSTGRES_URL
#   stop_postgres    stop the cluster and delete its folder
#
# PostgreSQL refuses to run as root, so under root the cluster belongs to an unprivileged
# system user created for it. The server listens on loopback only and trusts local
# connections: it holds nothing but test databases and lives as long as one test session.

RIDGELINE_PG_USER="${RIDGELINE_PG_USER:-ridgeline-pg}"
RIDGELINE_PG_DIR=""
RIDGELINE_PG_BIN=""

_pg_find_bin() {
    # /usr/local/bin first (where a prepared machine links them), then Debian's layout.
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return
    fi
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$found" ]; then
        echo "$found"
    fi
}

_pg_install() {
    echo "installing PostgreSQL from the distribution's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

_pg_as_owner() {
    # Run a command as the cluster's owner: the unprivileged user under root, else ourselves.
    if [ "$(id -u)" = "0" ]; then
        runuser -u "$RIDGELINE_PG_USER" -- "$@"
    else
        "$@"
    fi
}

_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_postgres() {
    RIDGELINE_PG_BIN="$(_pg_find_bin)"
    if [ -z "$RIDGELINE_PG_BIN" ]; then
        _pg_install
        RIDGELINE_PG_BIN="$(_pg_find_bin)"
    fi
    if [ -z "$RIDGELINE_PG_BIN" ]; then
        echo "PostgreSQL is not installed and could not be installed" >&2
        return 1
    fi

    if [ "$(id -u)" = "0" ] && ! id "$RIDGELINE_PG_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$RIDGELINE_PG_USER"
    fi
    RIDGELINE_PG_DIR="$(mktemp -d /tmp/ridgeline-pg.XXXXXX)"
    mkdir -p "$RIDGELINE_PG_DIR/socket"
    if [ "$(id -u)" = "0" ]; then
        chown -R "$RIDGELINE_PG_USER" "$RIDGELINE_PG_DIR"
    fi

    _pg_as_owner "$RIDGELINE_PG_BIN/initdb" -D "$RIDGELINE_PG_DIR/data" -U postgres \
        --auth=trust --encoding=UTF8 --no-locale >"$RIDGELINE_PG_DIR/initdb.log" 2>&1 || {
        cat "$RIDGELINE_PG_DIR/initdb.log" >&2
        return 1
    }

    local port
    port="$(_pg_free_port)"
    _pg_as_owner "$RIDGELINE_PG_BIN/pg_ctl" -D "$RIDGELINE_PG_DIR/data" -w -t 60 \
        -l "$RIDGELINE_PG_DIR/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $RIDGELINE_PG_DIR/socket -c max_connections=200" \
        start >/dev/null || {
        cat "$RIDGELINE_PG_DIR/server.log" >&2
        return 1
    }
    export RIDGELINE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$RIDGELINE_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

stop_postgres() {
    if [ -n "$RIDGELINE_PG_DIR" ] && [ -d "$RIDGELINE_PG_DIR/data" ]; then
        _pg_as_owner "$RIDGELINE_PG_BIN/pg_ctl" -D "$RIDGELINE_PG_DIR/data" -m fast -w \
            stop >/dev/null 2>&1 || true
    fi
    if [ -n "$RIDGELINE_PG_DIR" ]; then
        rm -rf "$RIDGELINE_PG_DIR"
    fi
    RIDGELINE_PG_DIR=""
    unset RIDGELINE_TEST_POSTGRES_URL
}
