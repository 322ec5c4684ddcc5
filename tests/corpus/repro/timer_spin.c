/*
 * timer_spin.c: the spin in __sched_timer_disarm that sqlite_wal showed
 * (tests/corpus/repro/README.md), without sqlite.
 *
 *   timer_spin THREADS ROUNDS      (e.g. 200 500)
 *
 * Each thread, ROUNDS times: 20 short critical sections on one shared
 * mutex, then usleep(1, 2 or 3 ms).  Under perf, weft's M:N build spends
 * 21-35% of its samples in __sched_timer_disarm's wait for
 * t->timer_busy, with 2 workers; with WEFT_WORKERS=1, none.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int N; static volatile unsigned long sink;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static void *run(void *a){for(int i=0;i<N;i++){for(int k=0;k<20;k++){pthread_mutex_lock(&m);for(int j=0;j<200;j++)sink++;pthread_mutex_unlock(&m);} usleep(1000 + (i%3)*1000);}return 0;}
int main(int c,char**v){int R=atoi(v[1]);N=atoi(v[2]);pthread_t t[4096];double t0=now();
 for(int i=0;i<R;i++)pthread_create(&t[i],0,run,0);
 for(int i=0;i<R;i++)pthread_join(t[i],0);
 printf("%d threads x %d rounds: %.2f s\n",R,N,now()-t0);}
