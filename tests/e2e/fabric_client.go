// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)

// The Go net/http keep-alive client of the fabric suite (tests/e2e/fabric.sh),
// standard library only: C goroutines share one Transport, each making a
// request every -interval for -duration; every answer must be 302 with
// Location = -want + the request's path.
//
// net/http's Transport silently sends an idempotent request again on a new
// connection when a reused one died before any byte of the response (the
// server closed it, or reset it): the request would succeed and hide the
// failure. An httptrace hook counts it instead: a request that got a
// connection more than once was retried. A response with
// "Connection: close" after which the Transport opens a new connection for
// the next request is the server's clean close, counted apart.
//
// Prints "ready" once every goroutine has had its first answer, then one
// summary line; exits 1 if a request failed or was retried.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "", "server address:port")
	conc := flag.Int("c", 16, "goroutines (keep-alive connections)")
	interval := flag.Duration("interval", 20*time.Millisecond, "between a goroutine's requests")
	duration := flag.Duration("duration", 10*time.Second, "how long")
	want := flag.String("want", "", "expected Location prefix")
	tag := flag.String("tag", "g", "path prefix")
	flag.Parse()

	tr := &http.Transport{MaxIdleConnsPerHost: *conc, IdleConnTimeout: time.Minute}
	cl := &http.Client{
		Transport: tr,
		Timeout:   5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	var requests, retried, dials, closes atomic.Int64
	var mu sync.Mutex
	var fails []string
	fail := func(s string) {
		mu.Lock()
		fails = append(fails, s)
		mu.Unlock()
	}
	var ready, done sync.WaitGroup
	ready.Add(*conc)
	done.Add(*conc)
	end := time.Now().Add(*duration)
	for g := 0; g < *conc; g++ {
		go func(g int) {
			defer done.Done()
			first := true
			defer func() {
				if first {
					ready.Done()
				}
			}()
			for n := 0; time.Now().Before(end); n++ {
				path := fmt.Sprintf("/%s/g%d/%d", *tag, g, n)
				// The Transport gets a connection once per attempt.
				var conns atomic.Int32
				trace := &httptrace.ClientTrace{
					GotConn: func(httptrace.GotConnInfo) { conns.Add(1) },
					ConnectDone: func(_, _ string, err error) {
						if err == nil {
							dials.Add(1)
						}
					},
				}
				req, err := http.NewRequestWithContext(
					httptrace.WithClientTrace(context.Background(), trace),
					"GET", "http://"+*addr+path, nil)
				if err != nil {
					fail(err.Error())
					return
				}
				resp, err := cl.Do(req)
				if conns.Load() > 1 {
					retried.Add(1)
					fail(path + ": retried by the Transport on a new connection")
				}
				if err != nil {
					fail(path + ": " + err.Error())
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				loc := resp.Header.Get("Location")
				if err != nil || resp.StatusCode != 302 || loc != *want+path {
					fail(fmt.Sprintf("%s: %d %s %v", path, resp.StatusCode, loc, err))
					return
				}
				requests.Add(1)
				if resp.Close {
					closes.Add(1)
				}
				if first {
					first = false
					ready.Done()
				}
				time.Sleep(*interval)
			}
		}(g)
	}
	ready.Wait()
	fmt.Println("ready")
	done.Wait()
	summary := fmt.Sprintf("go: %d keep-alive goroutines, %d requests answered, %d connections "+
		"opened, %d closed by the server after Connection: close; %d retried by the Transport",
		*conc, requests.Load(), dials.Load(), closes.Load(), retried.Load())
	if len(fails) > 0 {
		fmt.Fprintf(os.Stderr, "%s; %d failed: %v\n", summary, len(fails), fails[:min(3, len(fails))])
		os.Exit(1)
	}
	fmt.Println(summary)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
