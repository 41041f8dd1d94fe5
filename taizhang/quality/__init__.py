"""The data-quality audit (澄清底子): how far a register's numbers can be trusted."""
