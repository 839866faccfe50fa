#!/bin/sh
# Stand-in for Prisma's schema engine on machines that cannot download it (see README, "Prisma offline").
# `prisma generate` never runs the engine; every command that would, fails loudly instead of pretending.
echo "schema engine not available on this machine" >&2
exit 1
