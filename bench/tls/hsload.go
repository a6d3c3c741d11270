// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)

// hsload: the handshake client of make bench's HTTPS part (scripts/bench.sh):
// a new TLS connection per request (Connection: close), --conns of them at
// once, each a full handshake (--full) or resumed from its slot's newest
// ticket (--resume). It exists because OpenSSL 3.0's client (bench/tls/
// tlsload.c) spends 1.05-1.8x a server's CPU per handshake, so one client
// core cannot load any server; Go's crypto/tls spends about 0.6x
// OpenSSL's. Run it with GOMAXPROCS=1 on the client's CPU.
//
// Every response is checked (status 302, Content-Length, the whole body,
// then the server's close); in --resume every handshake of a slot after
// its first must be resumed, in --full none may be. The client offers TLS
// 1.3 and X25519 only, SNI and ALPN http/1.1; like wrk and tlsload it does
// not check the certificate chain (crypto/tls still checks the handshake's
// signature). One JSON object on stdout, with tlsload's fields.
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

const timeout = 5 * time.Second

var errNames = []string{"connect", "handshake", "bad_status", "bad_head",
	"short_read", "extra_data", "no_close", "timeout", "not_resumed",
	"resumed_unasked"}

// ticketCount is a slot's session cache: it keeps the newest ticket (only
// in --resume) and counts the tickets the server sent.
type ticketCount struct {
	keep    bool
	session *tls.ClientSessionState
	tickets int
}

func (t *ticketCount) Get(string) (*tls.ClientSessionState, bool) {
	return t.session, t.session != nil
}

func (t *ticketCount) Put(_ string, s *tls.ClientSessionState) {
	if s == nil {
		return
	}
	t.tickets++
	if t.keep {
		t.session = s
	}
}

type slot struct {
	full, resumed int
	errs          map[string]int
	latency       []time.Duration
	cache         ticketCount
	state         tls.ConnectionState
}

// request makes one connection, sends one request and checks the answer;
// it returns the name of what went wrong, or "".
func (s *slot) request(cfg *tls.Config, addr string, req []byte, first bool) string {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return "connect"
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(timeout))
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "timeout"
		}
		return "handshake"
	}
	s.state = c.ConnectionState()
	if _, err := c.Write(req); err != nil {
		return "short_read"
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return "bad_head"
	}
	if resp.StatusCode != http.StatusFound {
		return "bad_status"
	}
	n, err := strconv.Atoi(resp.Header.Get("Content-Length"))
	if err != nil {
		return "bad_head"
	}
	if got, err := io.Copy(io.Discard, resp.Body); err != nil || got != int64(n) {
		return "short_read"
	}
	// The server must close after answering Connection: close.
	var one [1]byte
	if k, err := r.Read(one[:]); k > 0 {
		return "extra_data"
	} else if err != io.EOF {
		return "no_close"
	}
	if s.state.DidResume {
		if !s.cache.keep {
			return "resumed_unasked"
		}
		s.resumed++
	} else {
		if s.cache.keep && !first {
			return "not_resumed"
		}
		s.full++
	}
	return ""
}

func percentile(all []time.Duration, p float64) int64 {
	if len(all) == 0 {
		return 0
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all[int(p*float64(len(all)-1))].Microseconds()
}

func main() {
	full := flag.Bool("full", false, "a full handshake per request")
	resume := flag.Bool("resume", false, "each handshake resumes its slot's newest ticket")
	dst := flag.String("dst", "", "server address")
	port := flag.Int("port", 443, "server port")
	sni := flag.String("sni", "", "server name")
	path := flag.String("path", "/", "request target")
	conns := flag.Int("conns", 50, "connections at once")
	seconds := flag.Float64("duration", 5, "seconds")
	flag.Parse()
	if *full == *resume || *dst == "" || *sni == "" || *conns < 1 || *seconds <= 0 {
		fmt.Fprintln(os.Stderr, "usage: hsload --full|--resume --dst IP --sni NAME [--port N] [--path P] [--conns N] [--duration SEC]")
		os.Exit(2)
	}
	mode := "full"
	if *resume {
		mode = "resume"
	}
	addr := net.JoinHostPort(*dst, strconv.Itoa(*port))
	req := []byte("GET " + *path + " HTTP/1.1\r\nHost: " + *sni +
		"\r\nConnection: close\r\n\r\n")
	slots := make([]*slot, *conns)
	start := time.Now()
	end := start.Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := range slots {
		s := &slot{errs: map[string]int{}}
		s.cache.keep = *resume
		slots[i] = s
		cfg := &tls.Config{
			InsecureSkipVerify: true,
			ServerName:         *sni,
			NextProtos:         []string{"http/1.1"},
			MinVersion:         tls.VersionTLS13,
			CurvePreferences:   []tls.CurveID{tls.X25519},
			ClientSessionCache: &s.cache,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; time.Now().Before(end); {
				t0 := time.Now()
				if e := s.request(cfg, addr, req, first); e != "" {
					s.errs[e]++
					continue
				}
				first = false
				s.latency = append(s.latency, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()

	out := map[string]any{"mode": mode, "conns": *conns, "seconds": elapsed}
	var fulls, resumed, tickets, errors int
	errs := map[string]int{}
	var lat []time.Duration
	var state tls.ConnectionState
	for _, s := range slots {
		fulls += s.full
		resumed += s.resumed
		tickets += s.cache.tickets
		lat = append(lat, s.latency...)
		for k, v := range s.errs {
			errs[k] += v
			errors += v
		}
		if s.state.Version != 0 {
			state = s.state
		}
	}
	out["requests"] = fulls + resumed
	out["rate"] = float64(fulls+resumed) / elapsed
	out["full"] = fulls
	out["resumed"] = resumed
	out["tickets"] = tickets
	out["p50_us"] = percentile(lat, 0.50)
	out["p99_us"] = percentile(lat, 0.99)
	out["version"] = map[uint16]string{tls.VersionTLS12: "TLSv1.2",
		tls.VersionTLS13: "TLSv1.3"}[state.Version]
	out["cipher"] = tls.CipherSuiteName(state.CipherSuite)
	out["group"] = "X25519" // the only group offered
	out["errors"] = errors
	for _, n := range errNames {
		if errs[n] > 0 {
			out["err_"+n] = errs[n]
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
