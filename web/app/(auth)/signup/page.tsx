import type { Metadata } from 'next';
import { AuthForm } from '@/components/auth/AuthForm.tsx';

export const metadata: Metadata = { title: 'Create account · Chat' };

export default function SignUpPage() {
  return <AuthForm mode="signup" />;
}
