//! The fixed demo users and their accounts (the seed's user "202" and one more).

/// A bank account a demo user can consent to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoAccount {
    /// `account_id` in the consent.
    pub account_id: &'static str,
    /// `account_number` in the consent.
    pub account_number: &'static str,
    /// `account_name` in the consent.
    pub account_name: &'static str,
}

/// A demo end user: the id_token and userinfo claims (OIDC Core §5.1), with the seed's
/// quirks kept (`amr` as a string, `email_verified` as the string `"true"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// `sub`.
    pub sub: &'static str,
    /// `name`.
    pub name: &'static str,
    /// `given_name`.
    pub given_name: &'static str,
    /// `family_name`.
    pub family_name: &'static str,
    /// `preferred_username`.
    pub preferred_username: &'static str,
    /// `email`.
    pub email: &'static str,
    /// `id_type`.
    pub id_type: &'static str,
    /// `hashed_id_number` (SHA-256 hex of the identity document number).
    pub hashed_id_number: &'static str,
    /// The user's accounts.
    pub accounts: &'static [DemoAccount],
}

/// The demo users; `auto_approve=true` consents as the first with all its accounts.
pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        sub: "202",
        name: "Mr. Mitsu Hirato",
        given_name: "Mitsu",
        family_name: "Hirato",
        preferred_username: "mits",
        email: "mits@m2.com",
        id_type: "passport",
        hashed_id_number: "c17edaae86e4016a583e098582f6dbf3eccade8ef83747df9ba617ded9d31309",
        accounts: &[
            DemoAccount {
                account_id: "100004000000000000000004",
                account_number: "10000004",
                account_name: "Greenbank Current Account",
            },
            DemoAccount {
                account_id: "100004000000000000000002",
                account_number: "10000002",
                account_name: "Greenbank Savings Account",
            },
            DemoAccount {
                account_id: "100004000000000000000007",
                account_number: "10000007",
                account_name: "Greenbank Credit Card",
            },
        ],
    },
    DemoUser {
        sub: "203",
        name: "Ms. Nur Aisyah Rahman",
        given_name: "Nur Aisyah",
        family_name: "Rahman",
        preferred_username: "aisyah",
        email: "aisyah@m2.com",
        id_type: "mykad",
        hashed_id_number: "36990f8180417724e5d805b1bf85a93c1f8a6dd17e7940cf846cbefb2ed8897f",
        accounts: &[
            DemoAccount {
                account_id: "200005000000000000000001",
                account_number: "20000001",
                account_name: "Bluebank Current Account",
            },
            DemoAccount {
                account_id: "200005000000000000000003",
                account_number: "20000003",
                account_name: "Bluebank Fixed Deposit",
            },
        ],
    },
];

/// The demo user with this `sub`.
pub(crate) fn user(sub: &str) -> Option<&'static DemoUser> {
    DEMO_USERS.iter().find(|u| u.sub == sub)
}
