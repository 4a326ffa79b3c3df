// Digit runs (payment cards, US SSN, German tax ID, phone numbers) and letter-led IDs (IBAN,
// UK NINO). A run is digit groups joined by single separators (space, '-', '.', '/', or a
// parenthesised area code); it is classified by its digits and its shape, so dates, IPs,
// versions, ISBNs and plain order numbers fall through.
#include <array>
#include <string_view>

#include "pii_detail.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing::detail {

namespace {

constexpr int kMaxGroups = 12;
constexpr int kMaxDigits = 24;

// Arrays are left uninitialised (zeroing them was half of this file's time): only the first
// n_digits / n_groups entries are ever read.
struct DigitRun {
    std::array<char, kMaxDigits> digits;
    int n_digits = 0;
    std::array<uint8_t, kMaxGroups> group_len;
    std::array<size_t, kMaxGroups> group_end;  // byte offset after the group's last digit
    std::array<char, kMaxGroups> sep_before;   // separator before group k (0 for k = 0)
    int n_groups = 0;
    bool plus = false;
    bool paren = false;  // some group was written as "(123)"
    bool overflow = false;
    bool has(char sep) const {
        for (int k = 1; k < n_groups; ++k)
            if (sep_before[k] == sep) return true;
        return false;
    }
    std::string_view prefix(int n) const { return {digits.data(), static_cast<size_t>(n)}; }
};

// Reads groups from `i`. Returns false when the run is glued to letters or '@'.
bool read_run(std::string_view s, size_t i, DigitRun& run) {
    size_t pos = i;
    if (at(s, pos) == '+') {
        run.plus = true;
        ++pos;
    }
    char sep = 0;
    while (true) {
        bool in_paren = false;
        if (at(s, pos) == '(') {
            in_paren = true;
            run.paren = true;
            ++pos;
        }
        const size_t start = pos;
        while (is_digit(at(s, pos))) {
            if (run.n_digits == kMaxDigits) {
                run.overflow = true;
                return false;
            }
            run.digits[run.n_digits++] = s[pos];
            ++pos;
        }
        if (pos == start) return false;
        if (in_paren) {
            if (at(s, pos) != ')') return false;
            ++pos;
        }
        if (run.n_groups == kMaxGroups) return false;
        run.group_len[run.n_groups] = static_cast<uint8_t>(pos - start - (in_paren ? 1 : 0));
        run.group_end[run.n_groups] = in_paren ? pos - 1 : pos;
        run.sep_before[run.n_groups] = sep;
        ++run.n_groups;
        if (in_paren && at(s, pos) != ' ' && at(s, pos) != '-' && is_digit(at(s, pos))) {
            sep = ')';
            continue;
        }
        const unsigned char c = at(s, pos);
        const bool sep_ok = c == ' ' || c == '-' || c == '.' || c == '/';
        if (sep_ok && (is_digit(at(s, pos + 1)) ||
                       (c == ' ' && at(s, pos + 1) == '(' && is_digit(at(s, pos + 2))))) {
            sep = static_cast<char>(c);
            ++pos;
            continue;
        }
        // End of the run: it must not run into a word, an e-mail or a decimal part.
        if (is_alpha(c) || c == '@' || c == '_') return false;
        if ((c == ',' || c == '.') && is_digit(at(s, pos + 1))) return false;
        return true;
    }
}

bool seps_only(const DigitRun& r, int upto, std::string_view allowed) {
    for (int k = 1; k < upto; ++k)
        if (allowed.find(r.sep_before[k]) == std::string_view::npos) return false;
    return true;
}

bool seps_uniform(const DigitRun& r, int upto) {
    for (int k = 2; k < upto; ++k)
        if (r.sep_before[k] != r.sep_before[1]) return false;
    return true;
}

Match card(const DigitRun& r, size_t i) {
    if (r.plus || r.paren) return {};
    int cum = 0;
    int best = -1;
    for (int k = 0; k < r.n_groups; ++k) {
        cum += r.group_len[k];
        if (cum > 19) break;
        if (cum >= 13 && seps_only(r, k + 1, " -") && seps_uniform(r, k + 1)) {
            const auto d = r.prefix(cum);
            if (card_iin_known(d) && luhn_valid(d)) best = k;
        }
    }
    if (best < 0) return {};
    return {PiiKind::kPaymentCard, r.group_end[best] - i};
}

Match ssn(const DigitRun& r, size_t i) {
    if (r.plus || r.paren || r.n_groups != 3) return {};
    if (r.group_len[0] != 3 || r.group_len[1] != 2 || r.group_len[2] != 4) return {};
    if (!seps_only(r, 3, " -") || !seps_uniform(r, 3)) return {};
    if (!us_ssn_valid(r.prefix(9))) return {};
    return {PiiKind::kUsSsn, r.group_end[2] - i};
}

Match tax_id(const DigitRun& r, size_t i) {
    if (r.plus || r.paren || r.n_digits != 11) return {};
    const bool bare = r.n_groups == 1;
    const bool grouped = r.n_groups == 4 && r.group_len[0] == 2 && r.group_len[1] == 3 &&
                         r.group_len[2] == 3 && seps_only(r, 4, " ");
    if (!bare && !grouped) return {};
    if (!de_tax_id_valid(r.prefix(11))) return {};
    return {PiiKind::kDeTaxId, r.group_end[r.n_groups - 1] - i};
}

bool looks_like_date_or_ip(const DigitRun& r) {
    if (r.n_groups == 4 && r.has('.')) {
        bool ip = true;
        for (int k = 0; k < 4; ++k)
            ip = ip && r.group_len[k] <= 3;
        if (ip) return true;
    }
    if (r.n_groups >= 3 && (r.has('.') || r.has('/') || r.has('-'))) {
        const int a = r.group_len[0], b = r.group_len[1], c = r.group_len[2];
        if (a == 4 && b <= 2 && c <= 2) return true;                                 // 2024-01-15
        if (a <= 2 && b <= 2 && (c == 4 || c == 2) && r.n_groups == 3) return true;  // 15.01.2024
    }
    return false;
}

Match phone(const DigitRun& r, size_t i) {
    if (r.n_groups == 0 || looks_like_date_or_ip(r)) return {};
    const size_t end = r.group_end[r.n_groups - 1] - i;
    const int n = r.n_digits;
    if (r.plus) {  // +CC ...: E.164 allows at most 15 digits
        if (n >= 8 && n <= 15 && r.group_len[0] <= 3 + (r.n_groups == 1 ? 12 : 0))
            return {PiiKind::kPhone, end};
        return {};
    }
    const char d0 = r.digits[0], d1 = r.digits[1];
    // 00 CC ... (international prefix), written with separators.
    if (d0 == '0' && d1 == '0' && r.n_groups >= 2 && n >= 10 && n <= 17)
        return {PiiKind::kPhone, end};
    // North American: (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567.
    {
        int k = 0;
        if (r.n_groups == 4 && r.group_len[0] == 1 && r.digits[0] == '1') k = 1;
        if (r.n_groups - k == 3 && r.group_len[k] == 3 && r.group_len[k + 1] == 3 &&
            r.group_len[k + 2] == 4 && r.digits[k] >= '2' && (r.paren || seps_uniform(r, 3)))
            return {PiiKind::kPhone, end};
    }
    // National numbers with a trunk 0: 030 1234567, 07700 900123, 06 12 34 56 78, 0171/1234567.
    if (d0 == '0' && d1 != '0' && n >= 9 && n <= 12 && r.group_len[0] >= 2 && r.n_groups <= 5) {
        if (r.has('.')) {  // dotted: only the French 2-2-2-2-2 shape
            bool pairs = r.n_groups == 5;
            for (int k = 0; k < r.n_groups; ++k)
                pairs = pairs && r.group_len[k] == 2;
            if (!pairs) return {};
        }
        return {PiiKind::kPhone, end};
    }
    return {};
}

}  // namespace

Match match_number(std::string_view s, size_t i) {
    // Glued to a preceding token ("v1.2", "ORD-2024", "#123", "$100", "x/12"): not PII.
    if (i > 0) {
        const unsigned char p = at(s, i - 1);
        if (p == '#' || p == '$' || p == '_' || p == '\\' || p == '=') return {};
        if ((p == '.' || p == '-' || p == '/' || p == ':') && i > 1 && is_alnum(at(s, i - 2)))
            return {};
    }
    DigitRun r;
    if (!read_run(s, i, r)) return {};
    if (r.n_digits < 8) return {};
    if (Match m = card(r, i); m.length) return m;
    if (Match m = ssn(r, i); m.length) return m;
    if (Match m = tax_id(r, i); m.length) return m;
    return phone(r, i);
}

namespace {

Match iban(std::string_view s, size_t i) {
    if (!is_digit(at(s, i + 2)) || !is_digit(at(s, i + 3))) return {};
    const int want = iban_length_for(s[i], s[i + 1]);
    if (want == 0) return {};
    std::array<char, 34> buf{};
    int got = 0;
    size_t pos = i;
    while (got < want) {
        unsigned char c = at(s, pos);
        if (c == ' ' && got > 0 && got % 4 == 0 && is_alnum(at(s, pos + 1))) {
            ++pos;
            continue;
        }
        if (is_lower(c)) c = static_cast<unsigned char>(c - 32);
        if (!is_upper(c) && !is_digit(c)) return {};
        buf[got++] = static_cast<char>(c);
        ++pos;
    }
    if (is_alnum(at(s, pos))) return {};
    // A well-formed IBAN with a wrong check digit is still one token: skip it whole, so its
    // digit groups are not read as a phone number.
    if (!iban_valid({buf.data(), static_cast<size_t>(want)}))
        return {PiiKind::kIban, pos - i, false};
    return {PiiKind::kIban, pos - i};
}

Match nino(std::string_view s, size_t i) {
    std::array<char, 9> buf{};
    buf[0] = s[i];
    buf[1] = static_cast<char>(at(s, i + 1));
    size_t pos = i + 2;
    int got = 2;
    while (got < 8) {
        if (at(s, pos) == ' ' && is_digit(at(s, pos + 1)) && got % 2 == 0) ++pos;
        if (!is_digit(at(s, pos))) return {};
        buf[got++] = s[pos++];
    }
    if (at(s, pos) == ' ' && is_upper(at(s, pos + 1))) ++pos;
    buf[8] = static_cast<char>(at(s, pos));
    ++pos;
    if (is_alnum(at(s, pos))) return {};
    if (!uk_nino_valid({buf.data(), 9})) return {};
    return {PiiKind::kUkNino, pos - i};
}

}  // namespace

Match match_letter_id(std::string_view s, size_t i) {
    if (!is_upper(at(s, i + 1))) return {};
    if (is_digit(at(s, i + 2))) {
        if (Match m = iban(s, i); m.length) return m;
    }
    if (is_digit(at(s, i + 2)) || (at(s, i + 2) == ' ' && is_digit(at(s, i + 3))))
        return nino(s, i);
    return {};
}

}  // namespace switchyard::routing::detail
