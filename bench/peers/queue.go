// queue: how many items per second pass through a buffered channel from one
// goroutine to another.
//
// A producer goroutine sends the numbers 1..n, the main goroutine receives
// them and checks their sum, through a channel of 128 slots and of 1 slot,
// Go's counterpart of a bounded asyncio.Queue (tulip: tl_queue_new(128)).
// Run it with GOMAXPROCS=1 and without: with more than one P the two sides
// may run on different threads. Prints one JSON line, the same figures as
// bench/queue.c.
//
// usage: queue [items]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func through(items, capacity int) float64 {
	ch := make(chan int, capacity)
	start := time.Now()
	go func() {
		for i := 1; i <= items; i++ {
			ch <- i
		}
	}()
	sum := 0
	for i := 0; i < items; i++ {
		sum += <-ch
	}
	rate := float64(items) / time.Since(start).Seconds()
	if sum != items*(items+1)/2 {
		panic("lost items")
	}
	return rate
}

func main() {
	items := 10000000
	if len(os.Args) > 1 {
		items, _ = strconv.Atoi(os.Args[1])
	}
	if items <= 0 {
		fmt.Fprintln(os.Stderr, "usage: queue [items > 0]")
		os.Exit(2)
	}
	r128 := through(items, 128)
	r1 := through(items, 1)
	fmt.Printf("{\"items\": %d, \"gomaxprocs\": %d, \"items_per_s_cap128\": %.0f, \"items_per_s_cap1\": %.0f}\n",
		items, runtime.GOMAXPROCS(0), r128, r1)
}
