"""A brand's team: owners invite people by e-mail; a person joins only by accepting.

An owner types an address and a role. Vouch sends that address a signed link that expires
(VOUCH_MEMBER_INVITE_DAYS); whoever opens it signs in, or sets a password for a new account, and
accepts; only then are they a member. The owner sees pending invitations and can revoke one.
Nothing tells the owner whether an account exists for the address (the old "add by e-mail" did,
and attached another brand's user without their consent).
"""
