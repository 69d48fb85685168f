// switch: what it costs to pass control from one goroutine to another.
//
// Two goroutines ping-pong over unbuffered channels (each hand-off wakes the
// other side and waits), then two goroutines each call runtime.Gosched()
// (Go's sleep(0)). Then a generator goroutine sends `rounds` values over an
// unbuffered channel to a range loop (Go's async for). Run it with GOMAXPROCS=1 and without: with more than one
// P the two sides may run on different threads. Prints one JSON line, the
// same figures as bench/switch.c.
//
// usage: switch [rounds]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// A round is two hand-offs: A wakes B, B wakes A.
func handoff(rounds int) float64 {
	ab, ba := make(chan int), make(chan int)
	go func() {
		for i := 0; i < rounds; i++ {
			ba <- <-ab
		}
	}()
	start := time.Now()
	for i := 0; i < rounds; i++ {
		ab <- i
		if <-ba != i {
			panic("lost a hand-off")
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(2*rounds)
}

func yields(rounds int) float64 {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
	for t := 0; t < 2; t++ {
		go func() {
			for i := 0; i < rounds; i++ {
				runtime.Gosched()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	return float64(time.Since(start).Nanoseconds()) / float64(2*rounds)
}

// One value is one channel hand-off from the generator to the consumer.
func genValues(rounds int) float64 {
	ch := make(chan int)
	start := time.Now()
	go func() {
		for i := 0; i < rounds; i++ {
			ch <- i
		}
		close(ch)
	}()
	n := 0
	for v := range ch {
		if v == n {
			n++
		}
	}
	if n != rounds {
		panic("lost a value")
	}
	return float64(time.Since(start).Nanoseconds()) / float64(rounds)
}

func main() {
	rounds := 1000000
	if len(os.Args) > 1 {
		rounds, _ = strconv.Atoi(os.Args[1])
	}
	if rounds <= 0 {
		fmt.Fprintln(os.Stderr, "usage: switch [rounds > 0]")
		os.Exit(2)
	}
	h := handoff(rounds)
	y := yields(rounds)
	g := genValues(rounds)
	fmt.Printf("{\"rounds\": %d, \"gomaxprocs\": %d, \"ns_per_handoff\": %.2f, \"ns_per_sleep0\": %.2f, \"ns_per_gen_value\": %.2f}\n",
		rounds, runtime.GOMAXPROCS(0), h, y, g)
}
