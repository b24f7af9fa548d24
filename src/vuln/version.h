// Version comparison exactly as each ecosystem's own tool does it. Every function returns <0, 0
// or >0 like strcmp. They never throw and never fail: a version an ecosystem would reject is
// still ordered (deterministically), so a malformed record cannot crash or stall matching.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kh::vuln {

// dpkg --compare-versions: [epoch:]upstream[-revision]; '~' sorts before everything, even the
// end; letters before other characters; digit runs numerically.
int compareDebian(std::string_view a, std::string_view b);

// rpm: [epoch:]version[-release], each part by rpmvercmp (alphanumeric segments, '~' before
// everything, '^' after the end but before more segments), a missing epoch being 0 and a missing
// release empty, as rpm's own version API (rpmver, `rpm.vercmp`) compares them.
int compareRpm(std::string_view a, std::string_view b);
// rpmvercmp on two plain strings (no epoch or release parsing).
int rpmvercmp(std::string_view a, std::string_view b);

// apk (Alpine): digits separated by '.', one optional lower-case letter, suffixes _alpha, _beta,
// _pre, _rc (before the release) and _cvs, _svn, _git, _hg, _p (after it), each with an
// optional number, then -rN. Leading zeros after a '.' compare as a fraction (1.02 < 1.1).
// Where apk-tools meets a token it does not accept, its order is kept.
int compareApk(std::string_view a, std::string_view b);

// PEP 440 (PyPI), as the `packaging` library orders versions: normalised spellings (alpha/a,
// c/pre/preview/rc, -N as a post-release, optional separators, a leading v), epochs, trailing
// zeros ignored, dev < pre < release < post, local versions after their public version (numeric
// segments above alphanumeric ones). Versions that are not PEP 440 sort before every valid one,
// among themselves as plain strings.
int comparePep440(std::string_view a, std::string_view b);

// Semantic Versioning 2.0.0 as npm's semver orders it: numeric major.minor.patch, a pre-release
// below its release, pre-release identifiers numeric (by value) below alphanumeric (ASCII),
// build metadata ignored; a leading 'v' accepted. Invalid versions as PEP 440 treats them.
int compareSemver(std::string_view a, std::string_view b);

// Go modules (golang.org/x/mod/semver): vMAJOR[.MINOR[.PATCH]][-pre][+build] with the v optional
// (OSV writes versions without it); v1 and v1.2 are v1.0.0 and v1.2.0; build metadata such as
// +incompatible ignored; pseudo-versions are pre-releases and order as such. Invalid versions are
// below every valid one and equal to each other, as in Go.
int compareGo(std::string_view a, std::string_view b);

// RubyGems (Gem::Version): segments of digits or letters (a '-' is ".pre."), numbers by value,
// a segment of letters makes a pre-release (below numbers), trailing zeros ignored.
int compareGem(std::string_view a, std::string_view b);

// Maven (ComparableVersion, as in Maven 3.8): items split at '.', '-' and digit/letter
// changes into nested lists; numbers by value; qualifiers alpha < beta < milestone < rc (= cr) <
// snapshot < release (= "", ga, final) < sp < any other (alphabetically); a1/b1/m1 are
// alpha-1/beta-1/milestone-1; trailing zeros and release qualifiers do not count.
int compareMaven(std::string_view a, std::string_view b);

// Composer (Packagist): both versions normalised as Composer's VersionParser does (a leading v
// and build metadata dropped, numbers padded to four parts, stability suffixes spelled out:
// 1.0RC1 is 1.0.0.0-RC1, -p2 is -patch2, 1.x-dev a branch), then ordered by PHP's
// version_compare: parts split at '.', '-', '_', '+' and digit/letter changes, numbers by value,
// words as any-other < dev < alpha = a < beta = b < RC = rc < (a number) < pl = p. A version
// Composer rejects is compared as written, by version_compare alone.
int compareComposer(std::string_view a, std::string_view b);
// Composer's normalised spelling of a version, or nothing when Composer rejects it.
std::optional<std::string> normaliseComposer(std::string_view v);

}  // namespace kh::vuln
