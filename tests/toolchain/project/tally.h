/* A counter shared by threads, in a shared library (libtally.so). */
void tally_add(long n);
long tally_get(void);
