// Checksum module
