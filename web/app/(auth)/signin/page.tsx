import type { Metadata } from 'next';
import { AuthForm } from '@/components/auth/AuthForm.tsx';

export const metadata: Metadata = { title: 'Sign in · Chat' };

export default function SignInPage() {
  return <AuthForm mode="signin" />;
}
