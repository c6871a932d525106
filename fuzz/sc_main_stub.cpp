// libsystemc.so defines main() calling sc_main(); a fuzzer's main() is
// libFuzzer's, but linking the platform still needs the symbol.
extern "C" int sc_main(int, char**) { return 0; }
