// Command httprelay is the floor for any stdio-to-HTTP MCP bridge, as bench/relay is for
// a stdio proxy: it starts CMD once and answers each POST by writing the body to CMD's
// stdin as one line and returning the line whose id matches, as plain JSON. It checks
// nothing, keeps no sessions and sends notifications on without waiting; what it costs is
// one HTTP exchange and one trip through a pipe each way, which every bridge pays.
//
//	httprelay ADDR CMD [ARG…]
package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// idOf returns the raw top-level "id" value of a message, or nil. Like the benchmark's
// client it only looks near the start and the end, where servers and clients put it; the
// benchmark's payloads hold no quotes.
func idOf(msg []byte) []byte {
	for _, w := range [][]byte{msg[:min(len(msg), 160)], msg[max(0, len(msg)-160):]} {
		i := bytes.Index(w, []byte(`"id":`))
		if i < 0 {
			continue
		}
		v := bytes.TrimLeft(w[i+5:], " ")
		end := bytes.IndexAny(v, ",}")
		if end > 0 {
			return bytes.TrimSpace(v[:end])
		}
	}
	return nil
}

func main() {
	if len(os.Args) < 3 {
		os.Stderr.WriteString("usage: httprelay ADDR CMD [ARG…]\n")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	growPipe(in)
	growPipe(out)
	var (
		mu      sync.Mutex
		waiting = map[string]chan []byte{}
		wmu     sync.Mutex
	)
	go func() {
		r := bufio.NewReaderSize(out, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				os.Exit(0)
			}
			if bytes.Contains(line[:min(len(line), 160)], []byte(`"method":`)) {
				continue // a notification or request from the server: nobody here wants it
			}
			mu.Lock()
			ch := waiting[string(idOf(line))]
			delete(waiting, string(idOf(line)))
			mu.Unlock()
			if ch != nil {
				ch <- line
			}
		}
	}()
	http.HandleFunc("/mcp", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		id := idOf(body)
		var ch chan []byte
		if id != nil {
			ch = make(chan []byte, 1)
			mu.Lock()
			waiting[string(id)] = ch
			mu.Unlock()
		}
		wmu.Lock()
		in.Write(append(body, '\n'))
		wmu.Unlock()
		if ch == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		select {
		case line := <-ch:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(line)))
			w.Write(line)
		case <-r.Context().Done():
		}
	})
	if err := http.ListenAndServe(os.Args[1], nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
