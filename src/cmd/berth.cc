// berth: the command-line client of berthd. All of it lives in src/cli (berth::cli).
#include "cli/cli.h"

int main(int argc, char** argv) { return berth::cli::Main(argc, argv); }
