"""Email and SMS providers: the SendGrid and Twilio clients on their official SDKs, and the local sandbox."""
