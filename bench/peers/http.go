// http: bench/http_server's Go peer: net/http with a handler for / (13 bytes)
// and /16k (16 KiB), run with GOMAXPROCS=1 by the harness.
//
// usage: http PORT
package main

import (
	"net/http"
	"os"
	"strings"
)

func main() {
	hello := []byte("Hello, World!")
	big := []byte(strings.Repeat("x", 16384))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	http.HandleFunc("/16k", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(big)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Args[1], nil); err != nil {
		panic(err)
	}
}
