"""URLs under /api/v1/auth/."""

from django.urls import path

from accounts.views import passwords, tokens, verification

urlpatterns = [
    path("register/", tokens.RegisterView.as_view(), name="auth-register"),
    path("token/", tokens.TokenView.as_view(), name="auth-token"),
    path("token/refresh/", tokens.RefreshView.as_view(), name="auth-token-refresh"),
    path("logout/", tokens.LogoutView.as_view(), name="auth-logout"),
    path("me/", tokens.MeView.as_view(), name="auth-me"),
    path("password/change/", passwords.PasswordChangeView.as_view(), name="auth-password-change"),
    path("password/reset/", passwords.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "password/reset/confirm/",
        passwords.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("email/verify/", verification.EmailVerifyView.as_view(), name="auth-email-verify"),
    path(
        "email/verify/resend/",
        verification.EmailVerifyResendView.as_view(),
        name="auth-email-verify-resend",
    ),
]
