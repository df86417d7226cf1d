// Command berth-ferretdb runs FerretDB 1.24 (MongoDB wire protocol) with its embedded SQLite
// backend, for the tests: scripts/services/mongodb.ts builds it into the cache folder
// (`go build`, never into the repo) and starts it as
//
//	berth-ferretdb -listen 127.0.0.1:27018 -dir /abs/data/dir
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
	flag.Parse()

	if err := run(*listen, *dir); err != nil {
		fmt.Fprintf(os.Stderr, "berth-ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(listen, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("berth-ferretdb starting", "listen", listen, "dir", abs)
	return f.Run(ctx)
}
