// Checksums and validity rules for the PII scanner: Luhn and IIN ranges for payment cards,
// IBAN country lengths and mod 97, US SSN ranges, UK NINO prefixes, German tax ID digits.
#include <array>
#include <string_view>

#include "pii_detail.hpp"
#include "switchyard/routing/pii.hpp"

namespace switchyard::routing {

using detail::is_digit;
using detail::is_upper;

namespace {

int prefix_value(std::string_view digits, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n && i < digits.size(); ++i)
        v = v * 10 + (digits[i] - '0');
    return v;
}

struct IbanLength {
    char cc[3];
    uint8_t length;
};
// SWIFT IBAN registry lengths per country.
constexpr IbanLength kIbanLengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
    {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28},
    {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20},
    {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MC", 27},
    {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18}, {"NO", 15},
    {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24},
    {"SC", 31}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23},
    {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

}  // namespace

int detail::iban_length_for(char a, char b) {
    for (const auto& e : kIbanLengths)
        if (e.cc[0] == a && e.cc[1] == b) return e.length;
    return 0;
}

bool luhn_valid(std::string_view digits) {
    if (digits.empty()) return false;
    int sum = 0;
    bool dbl = false;
    for (size_t i = digits.size(); i-- > 0;) {
        if (!is_digit(digits[i])) return false;
        int d = digits[i] - '0';
        if (dbl) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
        dbl = !dbl;
    }
    return sum % 10 == 0;
}

bool card_iin_known(std::string_view d) {
    const size_t n = d.size();
    if (n < 13 || n > 19) return false;
    const int p1 = prefix_value(d, 1), p2 = prefix_value(d, 2), p3 = prefix_value(d, 3),
              p4 = prefix_value(d, 4), p6 = prefix_value(d, 6);
    if (p1 == 4) return n == 13 || n == 16 || n == 19;                         // Visa
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n == 16;  // Mastercard
    if (p2 == 34 || p2 == 37) return n == 15;                                  // Amex
    if (n < 14) return false;
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || (p6 >= 622126 && p6 <= 622925))
        return n >= 16;                                                             // Discover
    if (p4 >= 3528 && p4 <= 3589) return n >= 16;                                   // JCB
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return true;  // Diners
    if (p2 == 62) return n >= 16;                                                   // UnionPay
    if (p4 >= 2200 && p4 <= 2204) return n >= 16;                                   // Mir
    if (p2 == 50 || (p2 >= 56 && p2 <= 58) || p4 == 6304 || p4 == 6759 ||
        (p4 >= 6761 && p4 <= 6763))
        return true;  // Maestro
    return false;
}

bool iban_valid(std::string_view iban) {
    if (iban.size() < 15 || iban.size() > 34) return false;
    if (!is_upper(iban[0]) || !is_upper(iban[1]) || !is_digit(iban[2]) || !is_digit(iban[3]))
        return false;
    if (static_cast<size_t>(detail::iban_length_for(iban[0], iban[1])) != iban.size()) return false;
    unsigned rem = 0;
    for (size_t k = 0; k < iban.size(); ++k) {
        const char c = iban[(k + 4) % iban.size()];
        if (is_digit(c)) {
            rem = (rem * 10 + (c - '0')) % 97;
        } else if (is_upper(c)) {
            rem = (rem * 100 + (c - 'A' + 10)) % 97;
        } else {
            return false;
        }
    }
    return rem == 1;
}

bool us_ssn_valid(std::string_view d) {
    if (d.size() != 9) return false;
    for (char c : d)
        if (!is_digit(c)) return false;
    const int area = prefix_value(d, 3), group = prefix_value(d.substr(3), 2),
              serial = prefix_value(d.substr(5), 4);
    if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
    // Numbers published in advertising and documentation, never valid.
    if (d == "078051120" || d == "219099999" || d == "123456789") return false;
    return true;
}

bool uk_nino_valid(std::string_view s) {
    if (s.size() != 9 || !is_upper(s[0]) || !is_upper(s[1])) return false;
    for (size_t i = 2; i < 8; ++i)
        if (!is_digit(s[i])) return false;
    if (s[8] < 'A' || s[8] > 'D') return false;
    constexpr std::string_view kBadFirst = "DFIQUV", kBadSecond = "DFIQUVO";
    if (kBadFirst.find(s[0]) != std::string_view::npos) return false;
    if (kBadSecond.find(s[1]) != std::string_view::npos) return false;
    constexpr std::string_view kBadPrefixes[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
    for (auto p : kBadPrefixes)
        if (s.substr(0, 2) == p) return false;
    return true;
}

bool de_tax_id_valid(std::string_view d) {
    if (d.size() != 11 || d[0] == '0') return false;
    std::array<int, 10> count{};
    for (char c : d)
        if (!is_digit(c)) return false;
    for (size_t i = 0; i < 10; ++i)
        ++count[d[i] - '0'];
    // Since 2016: in the first ten digits exactly one digit occurs twice or three times.
    int repeated = -1;
    for (int v = 0; v < 10; ++v) {
        if (count[v] > 3) return false;
        if (count[v] >= 2) {
            if (repeated >= 0) return false;
            repeated = v;
        }
    }
    if (repeated < 0) return false;
    if (count[repeated] == 3)  // the three may not stand directly next to each other
        for (size_t i = 0; i + 2 < 10; ++i)
            if (d[i] - '0' == repeated && d[i + 1] == d[i] && d[i + 2] == d[i]) return false;
    // ISO 7064 MOD 11,10 check digit.
    int product = 10;
    for (size_t i = 0; i < 10; ++i) {
        int sum = (d[i] - '0' + product) % 10;
        if (sum == 0) sum = 10;
        product = (sum * 2) % 11;
    }
    int check = 11 - product;
    if (check == 10) check = 0;
    return check == d[10] - '0';
}

}  // namespace switchyard::routing
