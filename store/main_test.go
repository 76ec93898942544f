package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// Environment of the writer process that TestMultiProcess re-executes this
// test binary as.
const (
	envWriterDB   = "AIRLOCK_STORE_TEST_WRITER_DB"
	envWriterName = "AIRLOCK_STORE_TEST_WRITER_NAME"
	envWriterRows = "AIRLOCK_STORE_TEST_WRITER_ROWS"
	envWriterGo   = "AIRLOCK_STORE_TEST_WRITER_GOROUTINES"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envWriterDB); path != "" {
		if err := runWriter(path, os.Getenv(envWriterName), os.Getenv(envWriterRows), os.Getenv(envWriterGo)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWriter appends rows decisions tagged with session name from several
// goroutines (4 unless goStr says), the way a proxy with several in-flight
// calls would.
func runWriter(path, name, rowsStr, goStr string) error {
	rows, err := strconv.Atoi(rowsStr)
	if err != nil {
		return fmt.Errorf("parse rows: %w", err)
	}
	workers := 4
	if goStr != "" {
		if workers, err = strconv.Atoi(goStr); err != nil {
			return fmt.Errorf("parse goroutines: %w", err)
		}
	}
	l, err := Open(path)
	if err != nil {
		return err
	}
	defer l.Close()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < rows; i += workers {
				d := sampleDecision(i)
				d.Session = name
				if _, err := l.Append(context.Background(), &d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
