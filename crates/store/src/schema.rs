//! Diesel's view of the schema, shared by both backends (every column type here exists in
//! Postgres and SQLite). Kept in step with `migrations/*/…/up.sql`; `schema_matches_migrations`
//! in the tests checks that every table and column here exists after migrating.

#![allow(missing_docs)]

diesel::table! {
    accounts (id) {
        id -> BigInt,
        name -> Text,
        email -> Text,
        parent_id -> Nullable<BigInt>,
        active -> Bool,
        created_at -> Timestamp,
        user_count -> BigInt,
        max_key_lifetime_days -> Nullable<Integer>,
        require_mfa -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        account_id -> BigInt,
        login -> Text,
        email -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        description -> Nullable<Text>,
        status -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
        last_sign_in_from -> Nullable<Text>,
    }
}

diesel::table! {
    user_roles (user_id, role_id) {
        user_id -> BigInt,
        role_id -> BigInt,
    }
}

diesel::table! {
    service_keys (id) {
        id -> Text,
        account_id -> BigInt,
        user_id -> Nullable<BigInt>,
        name -> Text,
        description -> Nullable<Text>,
        public_key -> Text,
        created_at -> Timestamp,
        not_before -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        allowed_ips -> Nullable<Text>,
        last_used_at -> Nullable<Timestamp>,
        last_used_from -> Nullable<Text>,
    }
}

diesel::table! {
    service_key_roles (key_id, role_id) {
        key_id -> Text,
        role_id -> BigInt,
    }
}

diesel::table! {
    access_keys (id) {
        id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        name -> Nullable<Text>,
        secret_hash -> Binary,
        status -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        not_before -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        allowed_ips -> Nullable<Text>,
        last_used_from -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Binary,
        id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        created_from -> Nullable<Text>,
        method -> Text,
        last_used_at -> Nullable<Timestamp>,
        last_used_from -> Nullable<Text>,
    }
}

diesel::table! {
    resource_groups (id) {
        id -> Text,
        account_id -> BigInt,
        name -> Text,
        meta -> Nullable<Text>,
        scope -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_groups (id) {
        id -> Text,
        account_id -> BigInt,
        name -> Text,
        created_on -> Timestamp,
        modified_on -> Timestamp,
    }
}

diesel::table! {
    policies (id) {
        id -> Text,
        user_group_id -> Text,
        access -> Text,
        position -> Integer,
    }
}

diesel::table! {
    policy_permission_groups (policy_id, permission_group_id) {
        policy_id -> Text,
        permission_group_id -> Text,
    }
}

diesel::table! {
    policy_resource_groups (policy_id, resource_group_id) {
        policy_id -> Text,
        resource_group_id -> Text,
    }
}

diesel::table! {
    user_group_members (user_group_id, user_id) {
        user_group_id -> Text,
        user_id -> BigInt,
        status -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sso_connectors (id) {
        id -> Text,
        account_id -> BigInt,
        email_domain -> Text,
        enabled -> Bool,
        use_fedramp_language -> Bool,
        verification_code -> Text,
        verification_status -> Text,
        created_on -> Timestamp,
        updated_on -> Timestamp,
        idp -> Nullable<Text>,
        idp_client_secret -> Nullable<Binary>,
    }
}

diesel::table! {
    oauth_clients (id) {
        id -> Text,
        account_id -> BigInt,
        client_name -> Text,
        token_endpoint_auth_method -> Text,
        visibility -> Text,
        settings -> Text,
        secret_digest -> Nullable<Binary>,
        previous_secret_digest -> Nullable<Binary>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        promoted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sso_logins (state_digest) {
        state_digest -> Binary,
        connector_id -> Text,
        account_id -> BigInt,
        nonce -> Text,
        sealed_verifier -> Binary,
        binding_digest -> Binary,
        redirect_uri -> Text,
        return_to -> Text,
        client_ip -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        account_id -> Nullable<BigInt>,
        at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Text,
        action -> Text,
        target -> Nullable<Text>,
        outcome -> Text,
        client_ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    authz_versions (account_id) {
        account_id -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    auth_attempts (key) {
        key -> Text,
        window_start -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    authorized_ips (account_id, network) {
        account_id -> BigInt,
        network -> Text,
        allowed -> Bool,
        description -> Nullable<Text>,
        created -> Timestamp,
    }
}

diesel::table! {
    mfa_totp (user_id) {
        user_id -> BigInt,
        account_id -> BigInt,
        sealed_secret -> Binary,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, position) {
        user_id -> BigInt,
        position -> Integer,
        digest -> Binary,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_challenges (token_hash) {
        token_hash -> Binary,
        account_id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oauth_codes (digest) {
        digest -> Binary,
        client_id -> Text,
        grant_id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        redirect_uri -> Text,
        redirect_uri_given -> Bool,
        code_challenge -> Nullable<Text>,
        nonce -> Nullable<Text>,
        scopes -> Text,
        auth_time -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_refresh_tokens (digest) {
        digest -> Binary,
        grant_id -> Text,
        client_id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        scopes -> Text,
        auth_time -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(service_keys -> accounts (account_id));
diesel::joinable!(service_key_roles -> service_keys (key_id));
diesel::joinable!(access_keys -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(policies -> user_groups (user_group_id));
diesel::joinable!(policy_permission_groups -> policies (policy_id));
diesel::joinable!(policy_resource_groups -> policies (policy_id));
diesel::joinable!(policy_resource_groups -> resource_groups (resource_group_id));
diesel::joinable!(user_group_members -> user_groups (user_group_id));
diesel::joinable!(user_group_members -> users (user_id));
diesel::joinable!(sso_connectors -> accounts (account_id));
diesel::joinable!(sso_logins -> sso_connectors (connector_id));
diesel::joinable!(oauth_clients -> accounts (account_id));
diesel::joinable!(mfa_totp -> users (user_id));
diesel::joinable!(mfa_recovery_codes -> mfa_totp (user_id));
diesel::joinable!(mfa_challenges -> users (user_id));

diesel::table! {
    oauth_signing_keys (kid) {
        kid -> Text,
        public_jwk -> Text,
        sealed_private -> Binary,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oauth_revoked_tokens (jti) {
        jti -> Text,
        account_id -> BigInt,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    oauth_grants (id) {
        id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        client_id -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    user_roles,
    service_keys,
    service_key_roles,
    access_keys,
    sessions,
    resource_groups,
    user_groups,
    policies,
    policy_permission_groups,
    policy_resource_groups,
    user_group_members,
    sso_connectors,
    sso_logins,
    oauth_clients,
    audit_events,
    authz_versions,
    auth_attempts,
    authorized_ips,
    mfa_totp,
    mfa_recovery_codes,
    mfa_challenges,
    oauth_signing_keys,
    oauth_revoked_tokens,
    oauth_grants,
);
