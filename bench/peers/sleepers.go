// sleepers: what a million goroutines that each sleep cost in time and memory.
//
// N goroutines each sleep 1 s and store their index; a WaitGroup waits for
// all. overhead = wall time - 1 s; RSS per task = (peak RSS - RSS before
// spawning) / N, read from /proc/self/status. Prints one JSON line.
//
// usage: sleepers [n]
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const sleep = time.Second

// statusKiB reads a "Vm...:  1234 kB" line of /proc/self/status.
func statusKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), field) {
			v, _ := strconv.ParseInt(strings.Fields(sc.Text())[1], 10, 64)
			return v
		}
	}
	return -1
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if n <= 0 {
		fmt.Fprintln(os.Stderr, "usage: sleepers [n > 0]")
		os.Exit(2)
	}
	base := statusKiB("VmRSS:")
	start := time.Now()
	results := make([]int, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			time.Sleep(sleep)
			results[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	wall := time.Since(start).Seconds()
	peak := statusKiB("VmHWM:")
	var sum int64
	for _, r := range results {
		sum += int64(r)
	}
	if sum != int64(n)*int64(n-1)/2 {
		fmt.Fprintln(os.Stderr, "sleepers: wrong results")
		os.Exit(1)
	}
	fmt.Printf("{\"n\": %d, \"gomaxprocs\": %d, \"wall_s\": %.4f, \"overhead_s\": %.4f, \"rss_per_task_kib\": %.3f}\n",
		n, runtime.GOMAXPROCS(0), wall, wall-sleep.Seconds(), float64(peak-base)/float64(n))
}
