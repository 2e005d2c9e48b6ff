// Command calipso-ferretdb runs FerretDB 1.24 (MongoDB wire protocol)
// with its embedded SQLite backend, or with its PostgreSQL backend.
//
//	calipso-ferretdb --listen 127.0.0.1:27017 --sqlite-dir DIR [--log-level info]
//	calipso-ferretdb --listen 127.0.0.1:27017 --handler postgresql --postgresql-url postgres://USER@HOST:PORT/DB
//
// Once the listener accepts connections it prints exactly one line
// "CALIPSO-FERRETDB READY listen=<addr>" to stdout. FerretDB's logs go to stderr.
// SIGTERM or SIGINT shuts it down cleanly (exit 0); a start-up error is
// reported as one line on stderr and exits 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	handler := flag.String("handler", "sqlite", "FerretDB backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", "", "directory for the SQLite database files (created if missing); sqlite only")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL connection URL; postgresql only")
	logLevel := flag.String("log-level", "info", "FerretDB log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *handler, *sqliteDir, *postgresqlURL, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "calipso-ferretdb: %s\n", oneLine(err.Error()))
		os.Exit(1)
	}
}

func run(listen, handler, sqliteDir, postgresqlURL, logLevel string) error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}
	if listen == "" {
		return errors.New("--listen must not be empty")
	}
	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: listen}, Handler: handler}
	switch handler {
	case "sqlite":
		if sqliteDir == "" {
			return errors.New("--sqlite-dir is required with --handler sqlite")
		}
		sqliteURL, err := prepareDir(sqliteDir)
		if err != nil {
			return err
		}
		config.SQLiteURL = sqliteURL
	case "postgresql":
		if postgresqlURL == "" {
			return errors.New("--postgresql-url is required with --handler postgresql")
		}
		config.PostgreSQLURL = postgresqlURL
	default:
		return fmt.Errorf("invalid --handler %q (want sqlite or postgresql)", handler)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("invalid --log-level %q (want debug, info, warn or error)", logLevel)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// New binds the TCP listener, so "address already in use" is reported here.
	config.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	f, err := ferretdb.New(&config)
	if err != nil {
		return err
	}

	// New has already bound the TCP socket (net.Listen), so the kernel accepts
	// connections from now on. MongoDBURI waits until the listener is set up and
	// gives the bound address (useful with port 0). We do not dial the port
	// ourselves: FerretDB would log a warning for each such probe connection.
	addr, err := boundAddr(f.MongoDBURI())
	if err != nil {
		return err
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx) // always returns nil, once ctx is cancelled and everything is closed
	}()

	fmt.Printf("CALIPSO-FERRETDB READY listen=%s\n", addr)

	<-done
	return nil
}

// prepareDir creates dir if needed, checks that it is writable
// and returns the SQLite URI FerretDB expects ("file:" + absolute directory + "/").
func prepareDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("--sqlite-dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("cannot create --sqlite-dir: %w", err)
	}
	probe, err := os.CreateTemp(abs, ".calipso-write-check-*")
	if err != nil {
		return "", fmt.Errorf("--sqlite-dir %q is not writable: %w", abs, err)
	}
	probe.Close()
	os.Remove(probe.Name())

	// A URL with an empty host renders as "file:///abs/dir/" with special characters escaped.
	u := url.URL{Scheme: "file", Path: strings.TrimSuffix(abs, "/") + "/"}
	return u.String(), nil
}

func boundAddr(mongoURI string) (string, error) {
	u, err := url.Parse(mongoURI)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("cannot determine the listening address from %q", mongoURI)
	}
	return u.Host, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
