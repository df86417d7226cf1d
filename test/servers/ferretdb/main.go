// Command berth-ferretdb runs FerretDB 1.24 (MongoDB wire protocol) with its embedded SQLite
// backend, for the tests: scripts/services/mongodb.ts builds it into the cache folder
// (`go build`, never into the repo) and starts it as
//
//	berth-ferretdb -listen 127.0.0.1:27018 -dir /abs/data/dir \
//	  [-listen-tls 127.0.0.1:27019 -tls-cert server.pem -tls-key key.pem -tls-ca ca.pem]
//
// With -tls-ca, FerretDB's TLS listener requires a client certificate signed by that CA. It
// offers no authentication through its embedding API (new auth is internal to its module).
//
// It embeds the `ferretdb` package rather than `go install`ing FerretDB's own command, whose
// build wants generated version files that a module download does not have.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP address to listen on")
	dir := flag.String("dir", "data", "directory of the SQLite databases (created if missing)")
	tlsListener := ferretdb.ListenerConfig{}
	flag.StringVar(&tlsListener.TLS, "listen-tls", "", "TCP address of the TLS listener (none if empty)")
	flag.StringVar(&tlsListener.TLSCertFile, "tls-cert", "", "server certificate (PEM)")
	flag.StringVar(&tlsListener.TLSKeyFile, "tls-key", "", "server key (PEM)")
	flag.StringVar(&tlsListener.TLSCAFile, "tls-ca", "", "CA of the client certificates it requires (PEM)")
	flag.Parse()

	if err := run(*listen, *dir, tlsListener); err != nil {
		fmt.Fprintf(os.Stderr, "berth-ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(listen, dir string, listener ferretdb.ListenerConfig) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	listener.TCP = listen
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  listener,
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("berth-ferretdb starting", "listen", listen, "listen-tls", listener.TLS, "dir", abs)
	return f.Run(ctx)
}
