// ring - the twin of bench/ring.c: 503 goroutines in a ring, each
// waiting on its own channel; a token is passed N hops (default
// 1,000,000) round the ring, each hop a send to the next goroutine and a
// receive by it.  The C program keeps the count in a variable guarded by
// the token and posts semaphores; here the count travels in the token
// itself, through channels of capacity 1 (so that, like sem_post, a send
// never waits).  The goroutine that receives 0 stops the clock and sends
// -1 round once more to stop the others.  Prints ns per hop.
//
// usage: ring [HOPS]
package main

import (
	"sync"
	"time"

	"weftbench/internal/bench"
)

const threads = 503

func main() {
	bench.Name = "ring"
	hops := bench.ArgCount(1, 1000000)
	var ch [threads]chan int64
	var tEnd time.Time // set by the goroutine that receives 0
	var wg sync.WaitGroup

	for i := range ch {
		ch[i] = make(chan int64, 1)
	}
	wg.Add(threads)
	for i := 0; i < threads; i++ {
		go func(in, next chan int64) {
			defer wg.Done()
			for {
				t := <-in
				switch {
				case t > 0:
					next <- t - 1
				case t == 0:
					tEnd = time.Now()
					next <- -1
					return
				default:
					next <- -1
					return
				}
			}
		}(ch[i], ch[(i+1)%threads])
	}
	t0 := time.Now()
	ch[0] <- hops
	wg.Wait()
	bench.Report("ns/hop", bench.Per(tEnd.Sub(t0), hops), hops)
}
