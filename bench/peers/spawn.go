// spawn: how many trivial goroutines can be started, run and finished per second.
//
// spawn+finish: `go f()` in batches, each batch waited for with a WaitGroup
// (tulip: tl_spawn, then wait until the batch has run). create+await: each
// goroutine hands its index back on a channel of its own that the spawner
// reads, Go's nearest form of a task handle that is awaited for a result
// (tulip: tl_create_task + tl_await). Prints one JSON line.
//
// usage: spawn [n [batch]]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func spawnFinish(n, batch int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for base := 0; base < n; base += batch {
		m := batch
		if n-base < m {
			m = n - base
		}
		wg.Add(m)
		for i := 0; i < m; i++ {
			go wg.Done()
		}
		wg.Wait()
	}
	return float64(n) / time.Since(start).Seconds()
}

func createAwait(n, batch int) float64 {
	handles := make([]chan int, batch)
	start := time.Now()
	for base := 0; base < n; base += batch {
		m := batch
		if n-base < m {
			m = n - base
		}
		for i := 0; i < m; i++ {
			c := make(chan int, 1)
			handles[i] = c
			go func(i int) { c <- i }(base + i)
		}
		for i := 0; i < m; i++ {
			if <-handles[i] != base+i {
				panic("wrong result")
			}
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func main() {
	n, batch := 1000000, 1000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		batch, _ = strconv.Atoi(os.Args[2])
	}
	if n <= 0 || batch <= 0 {
		fmt.Fprintln(os.Stderr, "usage: spawn [n > 0 [batch > 0]]")
		os.Exit(2)
	}
	sf := spawnFinish(n, batch)
	ca := createAwait(n, batch)
	fmt.Printf("{\"n\": %d, \"batch\": %d, \"gomaxprocs\": %d, \"spawn_per_s\": %.0f, \"create_await_per_s\": %.0f}\n",
		n, batch, runtime.GOMAXPROCS(0), sf, ca)
}
