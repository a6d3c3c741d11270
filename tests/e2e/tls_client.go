// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)

// The Go net/http client of the TLS suite (tests/e2e/tls.sh), built there
// with Debian's golang-go, standard library only: N keep-alive requests
// over HTTPS, each answer checked, all on one connection. Offers h2 and
// http/1.1 (as Go does by default) and wants http/1.1 chosen. Prints one
// summary line, or the reason on stderr and exits 1.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

var versions = map[uint16]string{tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3"}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go client: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", "10.77.0.1:443", "server address:port")
	src := flag.String("src", "", "local address to bind")
	name := flag.String("servername", "", "SNI and the name checked")
	caFile := flag.String("cafile", "", "CA certificate (PEM)")
	n := flag.Int("n", 500, "requests")
	target := flag.String("target", "https://k8s.gcr.io", "expected redirect prefix")
	flag.Parse()

	pem, err := os.ReadFile(*caFile)
	if err != nil {
		fail("%v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fail("no certificate in %s", *caFile)
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if *src != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*src)}
	}
	var dials int32
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			atomic.AddInt32(&dials, 1)
			return dialer.DialContext(ctx, network, a)
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots, ServerName: *name},
		ForceAttemptHTTP2:   true,
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	var state tls.ConnectionState
	t0 := time.Now()
	for i := 0; i < *n; i++ {
		path := fmt.Sprintf("/go/%d?n=%d", i, i*7)
		resp, err := client.Get("https://" + *addr + path)
		if err != nil {
			fail("request %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			fail("request %d: body: %v", i, err)
		}
		loc := *target + path
		switch {
		case resp.StatusCode != http.StatusFound:
			fail("request %d: status %s", i, resp.Status)
		case resp.Proto != "HTTP/1.1":
			fail("request %d: %s, want HTTP/1.1", i, resp.Proto)
		case resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1":
			fail("request %d: ALPN %+v, want http/1.1", i, resp.TLS)
		case resp.Header.Get("Location") != loc:
			fail("request %d: Location %q, want %q", i, resp.Header.Get("Location"), loc)
		case !strings.Contains(string(body), "Found"):
			fail("request %d: body %q", i, body)
		case resp.Close:
			fail("request %d: the server closes the connection", i)
		}
		state = *resp.TLS
	}
	dt := time.Since(t0)
	if d := atomic.LoadInt32(&dials); d != 1 {
		fail("%d requests took %d connections, want 1", *n, d)
	}
	fmt.Printf("%d requests on 1 connection (%s %s, ALPN %s, resumed %v) in %d ms\n",
		*n, versions[state.Version], tls.CipherSuiteName(state.CipherSuite),
		state.NegotiatedProtocol, state.DidResume, dt.Milliseconds())
}
