# SPDX-License-Identifier: GPL-2.0
# selftests/ring_vectors.txt as C arrays, for the module's unit tests
# (kmod/selftest.c). Keys and names in that file are plain tokens; "-" is
# the empty key.
function str(s,    out, i, c) {
	if (s == "-")
		s = ""
	# One character at a time: awks differ on backslashes in gsub().
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" || c == "\"")
			out = out "\\"
		out = out c
	}
	return "\"" out "\""
}
BEGIN { nx = nm = np = no = 0 }
$1 == "xxh64" { xxh[nx++] = sprintf("\t{ %s, %s, 0x%sULL },", $2, str($3), $4) }
$1 == "member" {
	n = split($3, hp, ":")
	mem[nm++] = sprintf("\t{ %s, \"%s\", %s, %s },", str($2), hp[1], hp[2], $5 == "" ? 100 : $5)
}
$1 == "points" { pts[np++] = sprintf("\t{ %s, %s },", str($2), $3) }
$1 == "owner" { own[no++] = sprintf("\t{ %s, 0x%sULL, %s },", str($2), $3, str($4)) }
END {
	print "/* SPDX-License-Identifier: GPL-2.0 */"
	print "/* Generated from selftests/ring_vectors.txt by scripts/ring_vectors.awk. */"
	print "static const struct { u64 seed; const char *key; u64 hash; } xxh64_vectors[] = {"
	for (i = 0; i < nx; i++) print xxh[i]
	print "};"
	print "static const struct { const char *name; const char *ip4; u16 port; u16 weight; } member_vectors[] = {"
	for (i = 0; i < nm; i++) print mem[i]
	print "};"
	print "static const struct { const char *name; u32 points; } points_vectors[] = {"
	for (i = 0; i < np; i++) print pts[i]
	print "};"
	print "static const struct { const char *key; u64 hash; const char *owner; } owner_vectors[] = {"
	for (i = 0; i < no; i++) print own[i]
	print "};"
}
