// bench/http_client's Go peer: GET BASE?i=0..N-1 with C goroutines over one
// http.Client (MaxConnsPerHost C, as many idle kept), bodies read and checked.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := os.Args[1]
	n, _ := strconv.Atoi(os.Args[2])
	c, _ := strconv.Atoi(os.Args[3])
	tr := &http.Transport{MaxConnsPerHost: c, MaxIdleConnsPerHost: c, MaxIdleConns: c}
	client := &http.Client{Transport: tr}
	var next, failed int64 = -1, 0
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(n) {
					return
				}
				resp, err := client.Get(fmt.Sprintf("%s?i=%d", base, i))
				if err != nil {
					atomic.AddInt64(&failed, 1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					atomic.AddInt64(&failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	e := time.Since(t0).Seconds()
	fmt.Printf("go: %d requests, %d failed, %.3f s, %.0f requests/s\n", n, failed, e, float64(n)/e)
}
